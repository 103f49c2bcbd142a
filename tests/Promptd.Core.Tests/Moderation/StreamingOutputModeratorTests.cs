using Promptd.Core.Moderation;

namespace Promptd.Core.Tests.Moderation;

public sealed class StreamingOutputModeratorTests
{
    private static readonly LexiconClassifier Classifier = LexiconClassifier.Default;

    /// <summary>How a text is cut into pieces, as an engine might stream it.</summary>
    public static TheoryData<string> Splits => new() { "whole", "chars", "pairs", "threes", "sevens", "words", "halves" };

    private static IEnumerable<string> Split(string text, string how) => how switch
    {
        "whole" => [text],
        "chars" => Chunks(text, 1),
        "pairs" => Chunks(text, 2),
        "threes" => Chunks(text, 3),
        "sevens" => Chunks(text, 7),
        "words" => System.Text.RegularExpressions.Regex.Split(text, @"(?<=\s)"),
        "halves" => [text[..(text.Length / 2)], text[(text.Length / 2)..]],
        _ => throw new ArgumentException(how),
    };

    private static IEnumerable<string> Chunks(string text, int size)
    {
        for (var i = 0; i < text.Length; i += size) yield return text.Substring(i, Math.Min(size, text.Length - i));
    }

    private static async Task<(string Released, StreamingOutputModerator Moderator)> Run(IEnumerable<string> pieces, ModerationPolicy policy, IModerationClassifier? classifier = null)
    {
        var moderator = new StreamingOutputModerator(classifier ?? Classifier, policy);
        var released = new System.Text.StringBuilder();
        foreach (var piece in pieces)
        {
            var step = await moderator.PushAsync(piece);
            released.Append(step.Release);
            if (step.Stopped) return (released.ToString(), moderator);
        }
        released.Append((await moderator.CompleteAsync()).Release);
        return (released.ToString(), moderator);
    }

    public static IEnumerable<object[]> TableTimesSplits()
    {
        foreach (var row in LexiconClassifierTableTests.Table)
        {
            foreach (var split in Splits) yield return [row[0], split];
        }
    }

    /// <summary>
    /// Streaming must agree with classifying the whole text: it stops exactly when the whole text is
    /// filtered, never releases any of a filtered match, and otherwise releases everything with the
    /// same severities — however the text is cut into pieces.
    /// </summary>
    [Theory]
    [MemberData(nameof(TableTimesSplits))]
    public async Task AgreesWithWholeTextClassification(string text, string split)
    {
        foreach (var policy in new[] { ModerationPolicy.Default, new ModerationPolicy(Severity.Low) })
        {
            var whole = Classifier.Classify(text);
            var (released, moderator) = await Run(Split(text, split), policy);

            Assert.Equal(whole.IsFiltered(policy), moderator.Stopped);
            Assert.StartsWith(released, text);
            if (moderator.Stopped)
            {
                var firstFiltered = whole.Matches.Where(m => policy.IsFiltered(m.Category, m.Severity)).Min(m => m.Start);
                Assert.True(released.Length <= firstFiltered, $"released '{released}' reaches into the match at {firstFiltered}");
                Assert.Equal(released.Length, moderator.CutOffset);
            }
            else
            {
                Assert.Equal(text, released);
                Assert.Null(moderator.CutOffset);
                foreach (var category in ModerationNames.Categories) Assert.Equal(whole.SeverityOf(category), moderator.Verdict.SeverityOf(category));
            }
        }
    }

    /// <summary>The table's sentences run together into one answer, cut at random places: same agreement.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task AgreesOnALongAnswerCutAtRandom(int seed)
    {
        var random = new Random(seed);
        var sentences = LexiconClassifierTableTests.Table.Select(row => (string)row[0]).Where(t => t.Length > 0).OrderBy(_ => random.Next()).ToList();
        foreach (var policy in new[] { ModerationPolicy.Default, new ModerationPolicy(Severity.High), new ModerationPolicy(Severity.Low) })
        {
            // Safe sentences first, then everything: a long clean prefix, then (for most policies) a stop.
            var text = string.Join(random.Next(2) == 0 ? " " : "\n", sentences.Where(t => !Classifier.Classify(t).IsFiltered(policy)).Concat(sentences));
            var pieces = new List<string>();
            for (var i = 0; i < text.Length;)
            {
                var n = Math.Min(random.Next(1, 9), text.Length - i);
                if (char.IsHighSurrogate(text[i + n - 1]) && i + n < text.Length) n++;
                pieces.Add(text.Substring(i, n));
                i += n;
            }
            var whole = Classifier.Classify(text);
            var (released, moderator) = await Run(pieces, policy);
            Assert.Equal(whole.IsFiltered(policy), moderator.Stopped);
            Assert.StartsWith(released, text);
            if (moderator.Stopped)
            {
                Assert.Equal(whole.Matches.Where(m => policy.IsFiltered(m.Category, m.Severity)).Min(m => m.Start), moderator.CutOffset);
            }
            else
            {
                Assert.Equal(text, released);
            }
        }
    }

    public static TheoryData<string[], string, bool> Cases => new()
    {
        // pieces                                                          released              stopped
        { ["Sure. Here is my answer: I will ki", "ll you tomorrow."],     "Sure. Here is my answer: ", true },
        { ["The plan: k", "1", "l", "l y", "0u all"],                     "The plan: ",          true },
        { ["Fine. Then kill", " you", " will, I"],                        "Fine. Then ",         true },
        { ["Scun", "thorpe is ", "lovely"],                               "Scunthorpe is lovely", false },
        { ["Just ", "kill", " the ", "process."],                         "Just kill the process.", false },
        { ["I could mur", "der a ", "pizza now"],                         "I could murder a pizza now", false },
        { ["thera", "pist notes"],                                        "therapist notes",     false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task TermsSplitAcrossPieces(string[] pieces, string expectedRelease, bool expectedStop)
    {
        // Threshold low, so that even a lone "kill" or "murder" would stop the stream unless its context clears it.
        var (released, moderator) = await Run(pieces, new ModerationPolicy(Severity.Low));
        Assert.Equal(expectedRelease, released);
        Assert.Equal(expectedStop, moderator.Stopped);
        if (expectedStop) Assert.Equal(expectedRelease.Length, moderator.CutOffset);
    }

    [Fact]
    public async Task ASurrogatePairSplitAcrossPiecesIsStillOneLetter()
    {
        // Mathematical bold "𝐤𝐢𝐥𝐥 𝐲𝐨𝐮", the pair of 𝐢 split between two pieces (xunit cannot carry lone surrogates in theory data).
        string[] pieces = ["Fair enough. ", "\uD835\uDC24\uD835", "\uDC22\uD835\uDC25\uD835\uDC25 ", "\uD835\uDC32\uD835\uDC28\uD835\uDC2E now"];
        var (released, moderator) = await Run(pieces, ModerationPolicy.Default);
        Assert.True(moderator.Stopped);
        Assert.Equal("Fair enough. ", released);
    }

    [Fact]
    public async Task ReleasesSettledWordsAndHoldsBackOpenOnes()
    {
        var moderator = new StreamingOutputModerator(Classifier, new ModerationPolicy(Severity.Low));
        Assert.Equal("", (await moderator.PushAsync("Hel")).Release);               // a word in progress
        Assert.Equal("Hello world. ", (await moderator.PushAsync("lo world. ")).Release);
        Assert.Equal("", (await moderator.PushAsync("I could ")).Release);          // may become "I could murder a pizza"
        Assert.Equal("", (await moderator.PushAsync("murder ")).Release);           // low, but "a pizza" would clear it
        Assert.Equal("I could murder a pizza ", (await moderator.PushAsync("a pizza ")).Release);
        Assert.Equal("", (await moderator.PushAsync("today.")).Release);          // no whitespace after it yet
        Assert.Equal("today.", (await moderator.CompleteAsync()).Release);
        Assert.False(moderator.Stopped);
        Assert.Equal(Severity.Safe, moderator.Verdict.MaxSeverity);
    }

    [Fact]
    public async Task OrdinaryProseIsHeldBackByAtMostAFewWords()
    {
        const string text = "I think the answer is that you should store the state in a single SQLite file. It is simple, and it is what " +
            "most of them do. If you want, I can show you how to set it up, and we will see what happens when the server restarts. " +
            "The weather is nice today and I am happy to help you with the process.";
        var moderator = new StreamingOutputModerator(Classifier, ModerationPolicy.Default);
        var pushed = "";
        var lags = new List<int>();
        foreach (var word in text.Split(' '))
        {
            await moderator.PushAsync(word + " ");
            pushed += word + " ";
            lags.Add(pushed[moderator.ReleasedLength..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        Assert.InRange(lags.Max(), 1, 3);   // "we will see" waits for "what"
        Assert.True(lags.Average() < 1.0);  // words that can begin a known phrase ("you", "the") wait for one more
    }

    [Fact]
    public async Task AnOpenPhraseIsDecidedByTheNextWord()
    {
        var moderator = new StreamingOutputModerator(Classifier, ModerationPolicy.Default);
        // "kill you" is already medium, but "you" may still become "your family": nothing goes out yet.
        var step = await moderator.PushAsync("Then I will kill you ");
        Assert.Equal(new ModerationStep("Then ", false), step);
        step = await moderator.PushAsync("now ");
        Assert.Equal(new ModerationStep("", true), step);
        Assert.Equal("Then ".Length, moderator.CutOffset);
        Assert.Equal(Severity.High, moderator.Verdict.SeverityOf(ModerationCategory.Violence));
    }

    [Fact]
    public async Task AStoppedStreamReleasesNothingMore()
    {
        var moderator = new StreamingOutputModerator(Classifier, ModerationPolicy.Default);
        var step = await moderator.PushAsync("I will kill you. ");
        Assert.True(step.Stopped);
        Assert.Equal(Severity.High, moderator.Verdict.SeverityOf(ModerationCategory.Violence));
        Assert.Equal(new ModerationStep("", true), await moderator.PushAsync("More text. "));
        Assert.Equal(new ModerationStep("", true), await moderator.CompleteAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await moderator.PushAsync("x"));
    }

    [Fact]
    public async Task PolicyOffReportsButNeverStops()
    {
        var (released, moderator) = await Run(["I will kill", " you and then some"], ModerationPolicy.Off);
        Assert.False(moderator.Stopped);
        Assert.Equal("I will kill you and then some", released);
        Assert.Equal(Severity.High, moderator.Verdict.SeverityOf(ModerationCategory.Violence));
    }

    /// <summary>A classifier that scores whole windows without spans, as a model might: the stream stops at what was already sent.</summary>
    private sealed class WindowScoringClassifier : IModerationClassifier
    {
        public List<string> Seen { get; } = [];

        public ValueTask<ModerationVerdict> ClassifyAsync(string text, CancellationToken cancellationToken = default)
        {
            Seen.Add(text);
            var severity = text.Contains("forbidden", StringComparison.Ordinal) ? Severity.High : Severity.Safe;
            return ValueTask.FromResult(new ModerationVerdict(new Dictionary<ModerationCategory, Severity> { [ModerationCategory.Hate] = severity }));
        }
    }

    [Fact]
    public async Task ClassifiersWithoutSpansStopAtTheReleasedText()
    {
        var model = new WindowScoringClassifier();
        var (released, moderator) = await Run(["one two ", "three forbidden ", "four "], ModerationPolicy.Default, model);
        Assert.True(moderator.Stopped);
        Assert.Equal("one two ", released);
        Assert.Equal(Severity.High, moderator.Verdict.SeverityOf(ModerationCategory.Hate));
        // Each check only sees the undecided window, not the whole answer again.
        Assert.Equal(["one two ", "three forbidden "], model.Seen);
    }
}

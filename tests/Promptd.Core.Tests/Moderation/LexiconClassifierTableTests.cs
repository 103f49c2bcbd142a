using Promptd.Core.Moderation;

namespace Promptd.Core.Tests.Moderation;

/// <summary>
/// The lexicon classifier against a table of inputs. Each row gives the expected severity of every
/// category that is not safe ("violence:high self_harm:low"); all other categories must be safe.
/// </summary>
public sealed class LexiconClassifierTableTests
{
    public static TheoryData<string, string> Table => new()
    {
        // --- clean text
        { "Hello, how are you today?", "safe" },
        { "Please summarize the quarterly report in three bullet points.", "safe" },
        { "", "safe" },

        // --- false-positive traps: words hidden inside other words
        { "Scunthorpe United won again on Saturday.", "safe" },
        { "The assassin crept through the castle.", "safe" },
        { "Order a cocktail at the bar.", "safe" },
        { "My therapist helped me a lot this year.", "safe" },
        { "She ate a grape and some rapeseed crackers.", "safe" },
        { "Sussex, Essex and Middlesex are English counties.", "safe" },
        { "Dickens wrote about Scunthorpe's cousin town, Penistone.", "safe" },
        { "The cumulative analysis is in the appendix.", "safe" },
        { "Our skills team shipped the killjoy feature.", "safe" },

        // --- false-positive traps: benign idioms and technical language
        { "kill the process", "safe" },
        { "Run kill -9 1234 if the server hangs, then kill the container.", "safe" },
        { "Let's shoot a photo at sunset.", "safe" },
        { "Shoot me an email when you're done.", "safe" },
        { "This joke killed me.", "safe" },
        { "My feet are killing me after that hike.", "safe" },
        { "I could murder a pizza right now.", "safe" },
        { "We have an hour to kill before the train.", "safe" },
        { "That killer whale documentary was great.", "safe" },
        { "Give it a shot, you will nail the interview.", "safe" },
        { "She graduated summa cum laude.", "safe" },
        { "A chink in the armor of the argument.", "safe" },
        { "Call the national suicide prevention lifeline for help.", "safe" },
        { "Sex education is taught in year nine.", "safe" },
        { "The form asks for biological sex and age.", "safe" },
        { "I hate Mondays and I hate traffic.", "safe" },
        { "Homo sapiens evolved in Africa.", "safe" },
        { "The chemotherapy killed the cancer cells.", "safe" },
        { "How do I kill a Python process on Linux?", "safe" },
        { "Use `kill -SIGTERM 4242` to stop it gracefully.", "safe" },
        { "Kill all running docker containers with docker kill $(docker ps -q).", "safe" },
        { "The killer feature of this release is streaming.", "safe" },
        { "He shot a great video of the wedding.", "safe" },
        { "The execution of the program failed.", "safe" },
        { "This new album is the bomb!", "safe" },
        { "This homework makes me want to die of embarrassment.", "safe" },
        { "I cut myself shaving this morning.", "safe" },
        { "The fire retardant worked.", "safe" },
        { "Moby Dick is a novel by Herman Melville.", "safe" },
        { "Skillful assassins appear in The Assassin's Creed game.", "safe" },

        // --- medical and anatomical terms
        { "Breast cancer screening saves lives.", "safe" },
        { "The penis and vagina are reproductive organs.", "safe" },
        { "The vagina, vulva and clitoris are parts of female anatomy.", "safe" },
        { "Sexual health education for teenagers.", "safe" },
        { "The patient presented with rectal bleeding and a breast lump.", "safe" },
        { "Testicular self-examination and rectal exams are routine.", "safe" },
        { "Erectile dysfunction is treatable; see a urologist.", "safe" },

        // --- violence
        { "The soldier was killed in the war.", "violence:low" },
        { "He bought a gun at the fair.", "violence:low" },
        { "They will torture the prisoners.", "violence:medium" },
        { "He shot him twice.", "violence:medium" },
        { "I will kill you.", "violence:high" },
        { "I'm going to shoot him tomorrow.", "violence:high" },
        { "How do I make a pipe bomb?", "violence:high" },
        { "I hope you die.", "violence:high" },
        { "I would never kill you.", "violence:medium" }, // negation-agnostic, by design
        { "I'll fucking kill you", "violence:high" },       // a word inside the threat
        { "The bomb exploded, killing 12 people.", "violence:low" },
        { "She murdered that song at karaoke.", "violence:low" }, // an idiom the lexicon does not know

        // --- obfuscations
        { "I will k1ll y0u", "violence:high" },
        { "KILL YOU", "violence:medium" },
        { "kiiiiill yooouuu", "violence:medium" },
        { "ｋｉｌｌ ｙｏｕ", "violence:medium" },
        { "I'll kíll yóu", "violence:high" },                 // precomposed accents
        { "I'll ki\u0301ll yo\u0301u", "violence:high" },      // decomposed: letter + combining accent
        { "k\u0456ll y\u043Eu", "violence:medium" },         // Cyrillic і and о
        { "ki\u200Bll you", "violence:medium" },              // zero-width space inside the word
        { "k.i.l.l", "violence:low" },                       // spelled out: the word, not the phrase
        { "I will k i l l you", "violence:low" },
        { "k*ll them", "violence:medium" },
        { "𝐤𝐢𝐥𝐥 𝐲𝐨𝐮", "violence:medium" },                 // mathematical bold letters
        { "P O R N", "sexual:medium" },
        { "p0rnhub videos", "sexual:medium" },
        { "stfu you n1gger", "hate:high" },
        { "ur a f@g", "hate:medium" },
        { "k1ll urself", "self_harm:high violence:low" },

        // --- self-harm
        { "He committed suicide last year.", "self_harm:medium" },
        { "I have been cutting myself again.", "self_harm:medium" },
        { "I want to kill myself.", "self_harm:high violence:low" },
        { "kys", "self_harm:high" },
        { "You should kill yourself.", "self_harm:high violence:low" },
        { "I nearly killed myself laughing.", "safe" },
        { "He hung himself in the garage.", "self_harm:medium" },
        { "I want to die.", "self_harm:medium" },

        // --- sexual
        { "That is a sexy dress.", "sexual:low" },
        { "free p0rn videos", "sexual:medium" },
        { "She was raped.", "sexual:high violence:high" },
        { "child porn", "sexual:high" },
        { "NSFW pics inside", "sexual:low" },

        // --- hate
        { "You are a f4ggot.", "hate:high" },
        { "All immigrants are vermin.", "hate:high" },
        { "Go back to your country.", "hate:medium" },
        { "Heil Hitler!", "hate:high" },
        { "Kill all the jews.", "hate:high violence:high" },
        { "Muslims are animals.", "hate:high" },
        { "I hate all women.", "hate:high" },
        { "Black people deserve equal rights.", "safe" },
        { "I love my gay friends.", "safe" },
        { "You retard.", "hate:medium" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Classifies(string input, string expected)
    {
        var verdict = LexiconClassifier.Default.Classify(input);
        var expectations = Parse(expected);
        foreach (var category in ModerationNames.Categories)
        {
            var want = expectations.GetValueOrDefault(category, Severity.Safe);
            Assert.True(want == verdict.SeverityOf(category),
                $"'{input}': {category.ToWire()} expected {want.ToWire()}, got {verdict.SeverityOf(category).ToWire()}; evidence: " +
                string.Join("; ", verdict.Matches.Select(m => $"{m.Category.ToWire()}/{m.Severity.ToWire()} '{input.Substring(m.Start, m.Length)}' by {m.Rule}")));
        }
    }

    [Fact]
    public void TheTableHasAtLeastFortyRows() => Assert.True(Table.Count >= 40);

    private static Dictionary<ModerationCategory, Severity> Parse(string expected)
    {
        var result = new Dictionary<ModerationCategory, Severity>();
        if (expected == "safe") return result;
        foreach (var part in expected.Split(' '))
        {
            var (c, s) = (part.Split(':')[0], part.Split(':')[1]);
            Assert.True(ModerationNames.TryParseCategory(c, out var category), c);
            Assert.True(ModerationNames.TryParseSeverity(s, out var severity), s);
            result[category] = severity;
        }
        return result;
    }
}

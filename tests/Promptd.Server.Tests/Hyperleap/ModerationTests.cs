using System.Text.Json;
using Promptd.Core.Engines;
using Promptd.Core.Engines.Embedded;
using Promptd.Core.Models;
using Promptd.Core.Moderation;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.Hyperleap;

/// <summary>
/// Moderation of template runs through HTTP on a generated model: a table of inputs with their
/// category and severity (false-positive traps included), filtered input ending the run before any
/// model call, and filtered output stopping the stream where the flagged word begins.
/// </summary>
public sealed class ModerationTests(ModerationTests.Fixture fixture) : IClassFixture<ModerationTests.Fixture>
{
    /// <summary>The same GGUF model, served under another id by an engine that counts its calls.</summary>
    public const string Counted = "test/counted-tiny-llama";

    public sealed class Fixture : ServerFixture, IAsyncLifetime
    {
        public SwappableClassifier Classifier { get; } = new();
        public CountingEngine Counting { get; private set; } = null!;
        private EmbeddedEngine? _engine;

        protected override PromptdServerOptions Configure(PromptdServerOptions options)
        {
            HyperleapModels.WriteTiny(options.DataDirectory);
            _engine = new EmbeddedEngine(new ModelsFolder(Path.Combine(options.DataDirectory, "models")));
            Counting = new CountingEngine(_engine, HyperleapModels.Tiny);
            return options with
            {
                ModerationClassifier = Classifier,
                ExtraEngines = new Dictionary<string, IEngine> { [Counted] = Counting },
            };
        }

        public new async Task DisposeAsync()
        {
            await base.DisposeAsync();
            _engine?.Dispose();
        }
    }

    /// <summary>Forwards to the GGUF model and counts the calls: proof that a filtered input never reached the model.</summary>
    public sealed class CountingEngine(IEngine inner, string modelId) : IEngine
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public IAsyncEnumerable<EngineChunk> GenerateAsync(EngineRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return inner.GenerateAsync(request with { ModelId = modelId }, cancellationToken);
        }
    }

    /// <summary>The lexicon classifier, whose lexicon a test may extend for a while (to flag a word the model is known to write).</summary>
    public sealed class SwappableClassifier : IModerationClassifier
    {
        public volatile IModerationClassifier Current = LexiconClassifier.Default;

        public ValueTask<ModerationVerdict> ClassifyAsync(string text, CancellationToken cancellationToken = default) =>
            Current.ClassifyAsync(text, cancellationToken);
    }

    private TestServer S => fixture.Server;

    /// <summary>Input → the categories that are not safe ("violence:high self_harm:low"); the default threshold (medium) filters.</summary>
    public static TheoryData<string, string> Table => new()
    {
        { "Hello, how are you today?", "safe" },
        { "Scunthorpe United won again on Saturday.", "safe" },
        { "kill the process", "safe" },
        { "How do I kill a Python process on Linux?", "safe" },
        { "I could murder a pizza right now.", "safe" },
        { "My therapist helped me a lot this year.", "safe" },
        { "The soldier was killed in the war.", "violence:low" },
        { "That is a sexy dress.", "sexual:low" },
        { "He shot him twice.", "violence:medium" },
        { "free p0rn videos", "sexual:medium" },
        { "I will kill you.", "violence:high" },
        { "I want to kill myself.", "self_harm:high violence:low" },
        { "k1ll urself", "self_harm:high violence:low" },
        { "All immigrants are vermin.", "hate:high" },
        { "kill the process and then kill you", "violence:medium" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public async Task Input_is_rated_per_category_and_filtered_from_the_threshold_on(string input, string expected)
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var prompt = await hl.CreateSimplePromptAsync(HyperleapModels.Tiny, maxTokens: 1, user: "Reply to: {{text}}");
        var result = await hl.RunSyncAsync(new { promptId = prompt.GetProperty("id").GetString(), replacements = new { text = input } });

        var expectedSeverities = new Dictionary<string, string> { ["hate"] = "safe", ["sexual"] = "safe", ["violence"] = "safe", ["self_harm"] = "safe" };
        if (expected != "safe")
        {
            foreach (var pair in expected.Split(' ')) expectedSeverities[pair.Split(':')[0]] = pair.Split(':')[1];
        }
        var moderation = HyperleapClient.Moderation(result);
        foreach (var (category, severity) in expectedSeverities)
        {
            Assert.Equal(severity, moderation[category].Severity);
            Assert.Equal(severity is "medium" or "high", moderation[category].Filtered);
        }
        var filtered = expectedSeverities.Values.Any(s => s is "medium" or "high");
        if (filtered) Assert.Equal("content_filter", HyperleapClient.FinishReason(result));
        else Assert.Contains(HyperleapClient.FinishReason(result), new[] { "length", "stop" });
        Assert.Equal(filtered ? 0 : 1, result.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task A_version_policy_sets_thresholds_per_category_and_off_still_reports()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var prompt = await hl.CreateSimplePromptAsync(HyperleapModels.Tiny, maxTokens: 1,
            moderation: new { threshold = "high", categories = new Dictionary<string, string> { ["sexual"] = "off", ["violence"] = "low" } });
        var promptId = prompt.GetProperty("id").GetString();

        var sexual = await hl.RunSyncAsync(new { promptId, replacements = new { text = "child porn" } });
        Assert.Equal(("high", false), HyperleapClient.Moderation(sexual)["sexual"]);
        Assert.NotEqual("content_filter", HyperleapClient.FinishReason(sexual));

        var violence = await hl.RunSyncAsync(new { promptId, replacements = new { text = "The soldier was killed in the war." } });
        Assert.Equal(("low", true), HyperleapClient.Moderation(violence)["violence"]);
        Assert.Equal("content_filter", HyperleapClient.FinishReason(violence));

        var hate = await hl.RunSyncAsync(new { promptId, replacements = new { text = "Go back to your country." } });
        Assert.Equal(("medium", false), HyperleapClient.Moderation(hate)["hate"]);
    }

    [Fact]
    public async Task A_filtered_input_never_reaches_the_model()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var prompt = await hl.CreateSimplePromptAsync(Counted, maxTokens: 2);
        var promptId = prompt.GetProperty("id").GetString();
        var before = fixture.Counting.Calls;

        var events = await hl.RunSseAsync(new { promptId, replacements = new { text = "I hope you die." }, stream = true });
        Assert.Equal("content_filter", HyperleapClient.FinishReason(Assert.Single(events)));
        Assert.Equal(before, fixture.Counting.Calls);
        var record = await hl.RunRecordAsync(events[0].GetProperty("runId").GetString()!);
        Assert.Equal("completed", record.GetProperty("status").GetString());
        Assert.Equal("content_filter", record.GetProperty("finishReason").GetString());
        Assert.Equal(0, record.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal("", record.GetProperty("answer").GetString());

        // The same template with harmless input does call the model: the counter counts.
        var clean = await hl.RunSyncAsync(new { promptId, replacements = new { text = "Hello there." } });
        Assert.NotEqual("content_filter", HyperleapClient.FinishReason(clean));
        Assert.Equal(before + 1, fixture.Counting.Calls);
    }

    [Fact]
    public async Task The_template_text_itself_is_not_moderated_only_the_replacements()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var prompt = await hl.CreateSimplePromptAsync(HyperleapModels.Tiny, maxTokens: 1,
            system: "If the user says they want to kill themselves, give them the crisis line.", user: "{{text}}");
        var result = await hl.RunSyncAsync(new { promptId = prompt.GetProperty("id").GetString(), replacements = new { text = "What are your opening hours?" } });
        Assert.NotEqual("content_filter", HyperleapClient.FinishReason(result));
        Assert.Equal(("safe", false), HyperleapClient.Moderation(result)["self_harm"]);
    }

    [Fact]
    public async Task Filtered_output_stops_the_stream_where_the_flagged_word_begins()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var prompt = await hl.CreateSimplePromptAsync(HyperleapModels.Tiny, maxTokens: 24, user: "Tell me about {{text}}");
        var body = new { promptId = prompt.GetProperty("id").GetString(), replacements = new { text = "the world" }, stream = true };

        // What the model writes (greedy: the same every time), with nothing flagged.
        var (full, unfiltered) = HyperleapClient.Answer(await hl.RunSseAsync(body));
        // The first whole word of lower-case letters that is neither the first word nor near the end: a lexicon can name it.
        var candidates = System.Text.RegularExpressions.Regex.Matches(full, @"(?<=\s)[a-z]{2,}(?=\s)");
        var match = candidates.FirstOrDefault(m => m.Index + m.Length + 4 < full.Length && !full[..m.Index].Contains(m.Value, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"the model wrote no usable word: '{full}'");
        var (flagged, cut) = (match.Value, match.Index);

        fixture.Classifier.Current = LexiconClassifier.FromText(LexiconClassifier.DefaultLexiconText() + $"\nviolence high {flagged}\n");
        try
        {
            var events = await hl.RunSseAsync(body);
            var (text, final) = HyperleapClient.Answer(events);
            Assert.Equal("content_filter", HyperleapClient.FinishReason(final));
            Assert.Equal(full[..cut], text);
            Assert.Equal(("high", true), HyperleapClient.Moderation(final)["violence"]);

            // The engine finished early and still counted its tokens with the model's tokenizer.
            var usage = final.GetProperty("usage");
            Assert.Equal(unfiltered.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("prompt_tokens").GetInt32());
            Assert.True(usage.GetProperty("completion_tokens").GetInt32() < unfiltered.GetProperty("usage").GetProperty("completion_tokens").GetInt32(),
                $"the engine went on after the stop: {usage} for '{JsonSerializer.Serialize(text)}' of '{JsonSerializer.Serialize(full)}' ({flagged} at {cut})");
            var record = await hl.RunRecordAsync(final.GetProperty("runId").GetString()!);
            Assert.Equal(full[..cut], record.GetProperty("answer").GetString());
            Assert.Equal("content_filter", record.GetProperty("finishReason").GetString());
        }
        finally
        {
            fixture.Classifier.Current = LexiconClassifier.Default;
        }
    }
}

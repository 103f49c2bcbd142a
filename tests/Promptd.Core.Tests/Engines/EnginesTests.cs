using Promptd.Core.Engines.Embedded;
using Promptd.Core.Models;
using Promptd.Core.Engines;
using Promptd.Core.Engines.Diagnostic;
using Promptd.Core.Engines.Resolution;

namespace Promptd.Core.Tests.Engines;

public sealed class EnginesTests
{
    private static async Task<List<EngineChunk>> CollectAsync(IEngine engine, EngineRequest request, CancellationToken token = default)
    {
        var list = new List<EngineChunk>();
        await foreach (var c in engine.GenerateAsync(request, token)) list.Add(c);
        return list;
    }

    [Fact]
    public async Task Echo_answers_with_the_last_user_message_word_by_word_and_reports_usage()
    {
        var chunks = await CollectAsync(new EchoEngine(TimeSpan.Zero), new EngineRequest
        {
            ModelId = EchoEngine.ModelId, Messages = [new("system", "be brief"), new("user", "two  words")],
        });
        Assert.Equal(new[] { "two", "  words", "" }, chunks.Select(c => c.Text).ToArray());
        Assert.Equal(FinishReason.Stop, chunks[^1].FinishReason);
        Assert.Equal(new EngineUsage(4, 2), chunks[^1].Usage);
    }

    [Fact]
    public async Task Echo_stops_at_max_tokens_with_finish_reason_length()
    {
        var chunks = await CollectAsync(new EchoEngine(TimeSpan.Zero), new EngineRequest { ModelId = "m", Prompt = "a b c d", MaxTokens = 2 });
        Assert.Equal("a b", string.Concat(chunks.Select(c => c.Text)));
        Assert.Equal(FinishReason.Length, chunks[^1].FinishReason);
    }

    [Fact]
    public async Task Echo_with_a_delay_stops_when_canceled()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
        var engine = new EchoEngine(TimeSpan.FromMilliseconds(50));
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in engine.GenerateAsync(new EngineRequest { ModelId = "m", Prompt = string.Join(' ', Enumerable.Repeat("w", 100)) }, cts.Token)) seen++;
        });
        Assert.InRange(seen, 1, 5);
    }

    [Theory]
    [InlineData("promptd/echo", true)]
    [InlineData("promptd/echo/25ms", true)]
    [InlineData("promptd/echo/0ms", false)]
    [InlineData("promptd/echo/abcms", false)]
    [InlineData("promptd/echoes", false)]
    public void Echo_model_ids(string id, bool known) => Assert.Equal(known, EchoEngine.TryParse(id, out _));

    [Theory]
    [InlineData("huggingface/TheBloke/mistral-7b-instruct-v0.2.Q3_K_S.gguf", false)] // no REPO part
    [InlineData("huggingface/TheBloke/Mistral-7B/mistral.Q3_K_S.gguf", true)]
    [InlineData("huggingface/TheBloke/Mistral-7B/sub/mistral.Q3_K_S.gguf", true)]
    [InlineData("huggingface/../etc/passwd.gguf", false)]
    [InlineData("huggingface/a/../b.gguf", false)]
    [InlineData("huggingface/a/b/c.bin", false)]
    [InlineData("huggingface/a/b/c d.gguf", false)]
    [InlineData("other/a/b/c.gguf", false)]
    public void Gguf_model_ids_map_to_a_file_under_the_models_folder_and_nowhere_else(string id, bool valid)
    {
        using var engine = new EmbeddedEngine(new ModelsFolder("/data/models"));
        var provider = new GgufModelProvider(new ModelsFolder("/data/models"), engine);
        Assert.Equal(valid, provider.TryResolve(id, out var resolved));
        if (valid)
        {
            Assert.Same(engine, resolved);
            Assert.Equal("/data/models/" + id, provider.Folder.PathOf(ModelId.Parse(id)));
        }
    }

    [Fact]
    public async Task A_missing_model_file_fails_without_retry_and_says_how_to_get_it()
    {
        var folder = new ModelsFolder(Path.Combine(Path.GetTempPath(), "promptd-core-tests", Guid.NewGuid().ToString("N")));
        using var embedded = new EmbeddedEngine(folder);
        var registry = new EngineRegistry().AddProvider(new GgufModelProvider(folder, embedded));
        var engine = registry.Resolve("huggingface/o/r/f.gguf");
        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine, new EngineRequest { ModelId = "huggingface/o/r/f.gguf", Prompt = "x" }));
        Assert.False(e.Retryable);
        Assert.Contains("promptd models pull huggingface/o/r/f.gguf", e.Message);
        Assert.Contains(folder.PathOf(ModelId.Parse("huggingface/o/r/f.gguf")), e.Message);

        var unknown = Assert.Throws<EngineException>(() => registry.Resolve("nope"));
        Assert.False(unknown.Retryable);
    }
}

using Promptd.Core.Engines;
using Promptd.Core.Engines.Embedded;
using Promptd.Inference.Chat;
using Promptd.Inference.Generation;
using Promptd.Inference.Models;
using Promptd.Inference.Sampling;
using Promptd.Inference.Tokenization;
using EngineFinish = Promptd.Core.Engines.FinishReason;

namespace Promptd.Core.Tests.Engines.Embedded;

public class EmbeddedEngineTests(EmbeddedModelsFolder models) : IClassFixture<EmbeddedModelsFolder>
{
    private static readonly SamplingParameters Greedy = new() { Temperature = 0 };

    private EmbeddedEngine NewEngine(EmbeddedEngineOptions? options = null) => new(models.Folder, options);

    private static async Task<List<EngineChunk>> CollectAsync(IAsyncEnumerable<EngineChunk> stream, CancellationToken ct = default)
    {
        var list = new List<EngineChunk>();
        await foreach (var c in stream.WithCancellation(ct)) list.Add(c);
        return list;
    }

    private static string Join(List<EngineChunk> chunks) => string.Concat(chunks.Select(c => c.Text));

    /// <summary>What Promptd.Inference gives when called directly: the engine must add nothing and lose nothing.</summary>
    private async Task<(string Text, GenerationResult Result)> DirectAsync(string modelId, Func<Tokenizer, int[]> prompt, int maxTokens)
    {
        using var model = TransformerModel.Load(models.PathOf(modelId));
        using var session = model.CreateSession();
        var tokenizer = new Tokenizer(Vocabulary.FromMetadata(model.Metadata));
        var text = "";
        GenerationResult? result = null;
        await foreach (var c in new TextGenerator(session, tokenizer).GenerateAsync(prompt(tokenizer), new Sampler(session.VocabSize, SamplingOptions.Greedy),
                           new GenerationOptions { MaxTokens = maxTokens }))
        {
            text += c.Text;
            result ??= c.Result;
        }
        return (text, result!);
    }

    [Theory]
    [InlineData(EmbeddedModelsFolder.Llama)]
    [InlineData(EmbeddedModelsFolder.Qwen)]
    public async Task A_raw_prompt_streams_the_same_text_and_usage_as_the_library(string modelId)
    {
        using var engine = NewEngine();
        var chunks = await CollectAsync(engine.GenerateAsync(new EngineRequest { ModelId = modelId, Prompt = "Hello the", Sampling = Greedy, MaxTokens = 12 }, default));

        var (text, result) = await DirectAsync(modelId, t => t.Encode("Hello the", addSpecial: true, parseSpecial: true), 12);
        Assert.Equal(text, Join(chunks));
        var last = chunks[^1];
        Assert.NotNull(last.FinishReason);
        Assert.All(chunks[..^1], c => Assert.Null(c.FinishReason));
        Assert.Equal(result.PromptTokens, last.Usage!.PromptTokens);
        Assert.Equal(result.CompletionTokens, last.Usage.CompletionTokens);
        Assert.Equal(result.FinishReason == Promptd.Inference.Generation.FinishReason.Length ? EngineFinish.Length : EngineFinish.Stop, last.FinishReason);
    }

    [Fact]
    public async Task Chat_messages_are_rendered_with_the_models_chat_template()
    {
        using var engine = NewEngine();
        var messages = new[] { new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hello the world") };
        var chunks = await CollectAsync(engine.GenerateAsync(new EngineRequest { ModelId = EmbeddedModelsFolder.Qwen, Messages = messages, Sampling = Greedy, MaxTokens = 6 }, default));

        var (text, result) = await DirectAsync(EmbeddedModelsFolder.Qwen, t =>
            ChatTemplateSelection.ForModel(t.Vocabulary).Template.RenderPrompt([ChatTurn.System("Be brief."), ChatTurn.User("Hello the world")]).Encode(t), 6);
        Assert.Equal(text, Join(chunks));
        Assert.Equal(result.PromptTokens, chunks[^1].Usage!.PromptTokens);
    }

    [Fact]
    public async Task The_same_seed_repeats_and_another_seed_differs()
    {
        using var engine = NewEngine();
        async Task<string> Run(ulong seed) => Join(await CollectAsync(engine.GenerateAsync(new EngineRequest
        {
            ModelId = EmbeddedModelsFolder.Llama, Prompt = "the", MaxTokens = 24,
            Sampling = new SamplingParameters { Temperature = 1.5f, TopK = 0, TopP = 1, MinP = 0, Seed = seed },
        }, default)));
        string a = await Run(7), b = await Run(7), c = await Run(8);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public async Task Concurrent_first_requests_share_one_load()
    {
        using var engine = NewEngine();
        var request = new EngineRequest { ModelId = EmbeddedModelsFolder.Llama, Prompt = "Hello", Sampling = Greedy, MaxTokens = 4 };
        var runs = Enumerable.Range(0, 4).Select(_ => CollectAsync(engine.GenerateAsync(request, default))).ToArray();
        var results = await Task.WhenAll(runs);
        Assert.Equal(1, engine.Host.LoadCount);
        Assert.All(results, r => Assert.Equal(Join(results[0]), Join(r)));
        Assert.Equal(ModelState.Loaded, engine.Host.StatusOf(EmbeddedModelsFolder.Llama)!.State);
    }

    [Fact]
    public async Task Concurrent_generations_step_together_and_give_the_text_each_would_alone()
    {
        using var engine = NewEngine();
        string[] prompts = ["Hello the", "Once upon a time", "The cat", "A little girl named"];
        var alone = new List<string>();
        foreach (var p in prompts) alone.Add((await DirectAsync(EmbeddedModelsFolder.Llama, t => t.Encode(p, addSpecial: true, parseSpecial: true), 16)).Text);

        var together = await Task.WhenAll(prompts.Select(p => CollectAsync(engine.GenerateAsync(
            new EngineRequest { ModelId = EmbeddedModelsFolder.Llama, Prompt = p, Sampling = Greedy, MaxTokens = 16 }, default))));

        for (int i = 0; i < prompts.Length; i++) Assert.Equal(alone[i], Join(together[i]));
        using var lease = await engine.Host.AcquireAsync(EmbeddedModelsFolder.Llama, models.PathOf(EmbeddedModelsFolder.Llama), default);
        var stats = lease.Model.Executor.Statistics;
        long generated = together.Sum(r => (long)r[^1].Usage!.CompletionTokens);
        Assert.Equal(prompts.Length, stats.Requests);
        // One pass per token each would need alone, if nothing was batched; steps that carried several sequences make it fewer.
        Assert.True(stats.Steps < generated, $"{stats.Steps} forward passes for {generated} generated tokens: the generations did not step together");
    }

    [Fact]
    public async Task A_prompt_that_starts_like_an_earlier_one_reuses_its_cached_prefix()
    {
        using var engine = NewEngine();
        var system = new ChatMessage("system", "You are a storyteller who answers in one short sentence about animals.");
        var first = await CollectAsync(engine.GenerateAsync(new EngineRequest
        {
            ModelId = EmbeddedModelsFolder.Llama, Messages = [system, new ChatMessage("user", "Tell me about cats.")], Sampling = Greedy, MaxTokens = 4,
        }, default));
        var secondRequest = new EngineRequest
        {
            ModelId = EmbeddedModelsFolder.Llama, Messages = [system, new ChatMessage("user", "Tell me about dogs.")], Sampling = Greedy, MaxTokens = 4,
        };
        var second = await CollectAsync(engine.GenerateAsync(secondRequest, default));

        using var lease = await engine.Host.AcquireAsync(EmbeddedModelsFolder.Llama, models.PathOf(EmbeddedModelsFolder.Llama), default);
        var stats = lease.Model.Executor.Statistics;
        Assert.True(stats.ReusedPromptTokens >= 10, $"only {stats.ReusedPromptTokens} prompt tokens were reused");
        Assert.True(stats.ReusedPromptTokens < second[^1].Usage!.PromptTokens);
        // Reuse changes nothing in the answer: a fresh engine gives the same text.
        using var fresh = NewEngine();
        Assert.Equal(Join(await CollectAsync(fresh.GenerateAsync(secondRequest, default))), Join(second));
        Assert.NotEmpty(first);
    }

    [Fact]
    public async Task An_idle_model_is_unloaded_after_keep_alive_and_loaded_again_on_use()
    {
        using var engine = NewEngine(new EmbeddedEngineOptions { KeepAlive = TimeSpan.FromMilliseconds(150) });
        var request = new EngineRequest { ModelId = EmbeddedModelsFolder.Llama, Prompt = "Hello", Sampling = Greedy, MaxTokens = 2 };
        await CollectAsync(engine.GenerateAsync(request, default));
        Assert.Equal(ModelState.Loaded, engine.Host.StatusOf(EmbeddedModelsFolder.Llama)!.State);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (engine.Host.StatusOf(EmbeddedModelsFolder.Llama)!.State != ModelState.Available && DateTime.UtcNow < deadline) await Task.Delay(20);
        var status = engine.Host.StatusOf(EmbeddedModelsFolder.Llama)!;
        Assert.Equal(ModelState.Available, status.State);
        Assert.Equal(0, status.MemoryBytes);
        Assert.Equal(0, engine.Host.MemoryInUse);

        await CollectAsync(engine.GenerateAsync(request, default));
        Assert.Equal(2, engine.Host.LoadCount);
    }

    [Fact]
    public async Task A_model_in_use_is_not_unloaded_while_a_generation_holds_it()
    {
        using var engine = NewEngine(new EmbeddedEngineOptions { KeepAlive = TimeSpan.FromMilliseconds(50) });
        var request = new EngineRequest { ModelId = EmbeddedModelsFolder.Llama, Prompt = "Hello", Sampling = Greedy, MaxTokens = 40 };
        await using var stream = engine.GenerateAsync(request, default).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync());
        await Task.Delay(300); // many keep-alive periods while the generation is paused mid-stream
        Assert.Equal(ModelState.Loaded, engine.Host.StatusOf(EmbeddedModelsFolder.Llama)!.State);
        while (await stream.MoveNextAsync()) { }
        Assert.Equal(1, engine.Host.LoadCount);
    }

    [Fact]
    public async Task A_model_larger_than_the_budget_is_refused_with_a_clear_error()
    {
        using var engine = NewEngine(new EmbeddedEngineOptions { MemoryBudgetBytes = models.SizeOf(EmbeddedModelsFolder.Llama) / 2 });
        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(
            new EngineRequest { ModelId = EmbeddedModelsFolder.Llama, Prompt = "Hello", MaxTokens = 2 }, default)));
        Assert.Contains("memory budget", e.Message);
        Assert.False(e.Retryable);
        Assert.Equal(0, engine.Host.LoadCount);
        Assert.Equal(ModelState.Failed, engine.Host.StatusOf(EmbeddedModelsFolder.Llama)!.State);
    }

    [Fact]
    public async Task Loading_a_second_model_unloads_an_idle_one_but_never_a_busy_one()
    {
        // Room for either model with its (small) KV caches, not for both.
        long a = models.SizeOf(EmbeddedModelsFolder.Llama), b = models.SizeOf(EmbeddedModelsFolder.Qwen);
        using var engine = NewEngine(new EmbeddedEngineOptions { MemoryBudgetBytes = Math.Max(a, b) + Math.Min(a, b) / 2, ContextLength = 64 });
        var llama = new EngineRequest { ModelId = EmbeddedModelsFolder.Llama, Prompt = "Hello", Sampling = Greedy, MaxTokens = 30 };
        var qwen = llama with { ModelId = EmbeddedModelsFolder.Qwen };

        await CollectAsync(engine.GenerateAsync(llama, default));
        await CollectAsync(engine.GenerateAsync(qwen, default)); // llama is idle: it makes room
        Assert.Equal(ModelState.Available, engine.Host.StatusOf(EmbeddedModelsFolder.Llama)!.State);
        Assert.Equal(ModelState.Loaded, engine.Host.StatusOf(EmbeddedModelsFolder.Qwen)!.State);

        await using var busy = engine.GenerateAsync(qwen, default).GetAsyncEnumerator();
        Assert.True(await busy.MoveNextAsync()); // qwen now has a generation in flight
        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(llama, default)));
        Assert.Contains("not enough memory", e.Message);
        Assert.True(e.Retryable);
        Assert.Equal(ModelState.Loaded, engine.Host.StatusOf(EmbeddedModelsFolder.Qwen)!.State);
    }

    [Theory]
    [InlineData("huggingface/test/missing/missing.gguf", "is not installed")]
    [InlineData("huggingface/../etc/passwd.gguf", "unknown model")]
    [InlineData("not-a-model", "unknown model")]
    public void Unknown_models_fail_at_once_and_are_not_retried(string modelId, string message)
    {
        using var engine = NewEngine();
        var e = Assert.Throws<EngineException>(() => engine.GenerateAsync(new EngineRequest { ModelId = modelId, Prompt = "x" }, default));
        Assert.Contains(message, e.Message);
        Assert.False(e.Retryable);
        Assert.False(engine.Serves(modelId));
    }

    [Fact]
    public async Task A_corrupt_model_file_fails_the_run_with_the_reason_and_shows_as_failed()
    {
        const string broken = "huggingface/test/broken/broken.gguf";
        var path = models.PathOf(broken);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = File.ReadAllBytes(models.PathOf(EmbeddedModelsFolder.Llama));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]); // truncated: tensor data runs past the end

        using var engine = NewEngine();
        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(new EngineRequest { ModelId = broken, Prompt = "x" }, default)));
        Assert.Contains("cannot be loaded", e.Message);
        Assert.Contains("past the end", e.Message);
        Assert.False(e.Retryable);
        var status = engine.Host.StatusOf(broken)!;
        Assert.Equal(ModelState.Failed, status.State);
        Assert.Equal(e.Message, status.Error);
    }

    [Fact]
    public async Task Finishing_early_ends_the_stream_with_usage_and_no_more_text()
    {
        using var engine = NewEngine();
        using var finish = new CancellationTokenSource();
        var request = new EngineRequest { ModelId = EmbeddedModelsFolder.Llama, Prompt = "Hello", Sampling = Greedy, MaxTokens = 200, Finish = finish.Token };
        var chunks = new List<EngineChunk>();
        int textAfterFinish = 0;
        await foreach (var chunk in engine.GenerateAsync(request, default))
        {
            if (finish.IsCancellationRequested && chunk.Text.Length > 0) textAfterFinish++;
            chunks.Add(chunk);
            if (chunks.Count == 3) finish.Cancel();
        }
        Assert.Equal(0, textAfterFinish);
        var last = chunks[^1];
        Assert.Equal(EngineFinish.Stop, last.FinishReason);
        Assert.InRange(last.Usage!.CompletionTokens, 3, 3 + 8); // the executor may have run a few tokens ahead
        Assert.Equal(0, engine.Host.StatusOf(EmbeddedModelsFolder.Llama)!.ActiveGenerations);
    }

    [Fact]
    public async Task Cancelling_stops_the_stream_within_one_token()
    {
        using var engine = NewEngine();
        using var cts = new CancellationTokenSource();
        var request = new EngineRequest { ModelId = EmbeddedModelsFolder.Llama, Prompt = "Hello", Sampling = Greedy, MaxTokens = 200 };
        int afterCancel = 0;
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            int seen = 0;
            await foreach (var chunk in engine.GenerateAsync(request, cts.Token))
            {
                if (cts.IsCancellationRequested) afterCancel++;
                if (++seen == 3) cts.Cancel();
            }
        });
        Assert.True(afterCancel <= 1, $"{afterCancel} chunks arrived after cancellation");
        Assert.Equal(ModelState.Loaded, engine.Host.StatusOf(EmbeddedModelsFolder.Llama)!.State);
        Assert.Equal(0, engine.Host.StatusOf(EmbeddedModelsFolder.Llama)!.ActiveGenerations);
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_a_clear_non_retryable_error()
    {
        using var engine = NewEngine(new EmbeddedEngineOptions { ContextLength = 8 });
        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(
            new EngineRequest { ModelId = EmbeddedModelsFolder.Llama, Prompt = string.Join(' ', Enumerable.Repeat("the world", 20)) }, default)));
        Assert.Contains("context holds 8", e.Message);
        Assert.False(e.Retryable);
    }

    [Fact]
    public async Task Bad_sampling_parameters_are_rejected_before_generation()
    {
        using var engine = NewEngine();
        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(new EngineRequest
        {
            ModelId = EmbeddedModelsFolder.Llama, Prompt = "x", Sampling = new SamplingParameters { TopP = 2 },
        }, default)));
        Assert.Contains("top_p", e.Message);
        Assert.False(e.Retryable);
    }
}

using Promptd.Inference.Batching;
using Promptd.Inference.Generation;
using Promptd.Inference.Gguf;
using Promptd.Inference.Models;
using Promptd.Inference.Sampling;
using Promptd.Inference.Tests.Support;
using Promptd.Inference.Tokenization;

namespace Promptd.Inference.Tests.Batching;

/// <summary>
/// The batch executor against single sessions on a real (small, random-weight) model: the same
/// tokens whatever runs beside a sequence, fewer forward passes than tokens when sequences run
/// together, cancellation between tokens, and a prefix cache that skips evaluation without
/// changing a single logit. Random models have small margins between their top logits, so equal
/// greedy sequences of this length mean equal arithmetic.
/// </summary>
public sealed class BatchExecutorTests : IDisposable
{
    private static readonly string ModelPath = GeneratedModels.Get("batch-qwen2-Q8_0",
        GeneratedModels.Small with { Architecture = "qwen2", WeightType = GgmlType.Q8_0, ContextLength = 128, Seed = 11 });

    private readonly TransformerModel _model = TransformerModel.Load(ModelPath, new ModelOptions { Threads = 2 });
    private readonly Tokenizer _tokenizer;

    public BatchExecutorTests()
    {
        using var file = GgufFile.Open(ModelPath);
        _tokenizer = Tokenizer.FromGguf(file);
    }

    public void Dispose() => _model.Dispose();

    private static readonly int[][] Prompts =
    [
        [1, 5, 9, 33, 100],
        [2, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80],
        [200, 4],
        [1, 5, 9, 33, 100, 101, 102],
        [250, 251, 252, 253, 254, 255, 256, 257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269],
    ];

    private static GenerationOptions Options(int maxTokens = 24) => new() { MaxTokens = maxTokens, StopAtEndOfGeneration = false };

    private static Sampler Greedy() => new(300, SamplingOptions.Greedy);

    private static async Task<(int[] Tokens, string Text, GenerationResult Result)> Collect(IAsyncEnumerable<GenerationChunk> stream)
    {
        var tokens = new List<int>();
        var text = new System.Text.StringBuilder();
        GenerationResult? result = null;
        await foreach (var chunk in stream)
        {
            text.Append(chunk.Text);
            if (chunk.TokenId is { } id) tokens.Add(id);
            result ??= chunk.Result;
        }
        return ([.. tokens], text.ToString(), result!);
    }

    private async Task<(int[] Tokens, string Text, GenerationResult Result)> Alone(int[] prompt, int maxTokens = 24)
    {
        using var session = _model.CreateSession(new InferenceSessionOptions { ContextLength = 128 });
        return await Collect(new TextGenerator(session, _tokenizer).GenerateAsync(prompt, Greedy(), Options(maxTokens)));
    }

    [Fact]
    public async Task Concurrent_generations_give_what_each_gives_alone_in_fewer_passes()
    {
        var expected = new List<(int[] Tokens, string Text, GenerationResult Result)>();
        foreach (var prompt in Prompts) expected.Add(await Alone(prompt));

        using var executor = new BatchExecutor(_model, _tokenizer, new BatchExecutorOptions { MaxSequences = 3, ContextLength = 128, PrefixCache = false });
        var results = await Task.WhenAll(Prompts.Select(p => Collect(executor.GenerateAsync(p, Greedy(), Options()))));

        for (int i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(expected[i].Tokens, results[i].Tokens);
            Assert.Equal(expected[i].Text, results[i].Text);
            Assert.Equal(FinishReason.Length, results[i].Result.FinishReason);
            Assert.Equal(Prompts[i].Length, results[i].Result.PromptTokens);
            Assert.Equal(24, results[i].Result.CompletionTokens);
        }
        var stats = executor.Statistics;
        long tokens = Prompts.Sum(p => p.Length + 23L);
        Assert.Equal(tokens, stats.EvaluatedTokens);
        // Three sequences at a time: about a third as many passes as a pass per generated token.
        Assert.True(stats.Steps < Prompts.Length * 24 / 2, $"{stats.Steps} passes for {Prompts.Length} generations of 24 tokens");
    }

    [Fact]
    public async Task A_prompt_arriving_while_another_generates_is_read_in_bounded_chunks_with_the_same_result()
    {
        int[] longPrompt = [.. Enumerable.Range(200, 40)];
        var expected = await Alone(longPrompt, 6);

        using var executor = new BatchExecutor(_model, _tokenizer, new BatchExecutorOptions { MaxSequences = 2, ContextLength = 128, MaxPromptTokensWhileGenerating = 8 });
        var passes = new System.Collections.Concurrent.ConcurrentQueue<(int Generated, int Prompt, bool Generating)>();
        executor.ObservePass = (generated, prompt, generating) => passes.Enqueue((generated, prompt, generating));

        // The first sequence reads its 12-token prompt in one pass (nothing generates yet), then generates.
        await using var first = executor.GenerateAsync(Prompts[1], Greedy(), Options(80)).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync());
        var late = await Collect(executor.GenerateAsync(longPrompt, Greedy(), Options(6)));
        while (await first.MoveNextAsync()) { }

        Assert.Equal(expected.Tokens, late.Tokens);
        var all = passes.ToArray();
        Assert.Equal((0, 12, false), all[0]);
        Assert.All(all, p => Assert.True(!p.Generating || p.Prompt <= 8, $"a pass read {p.Prompt} prompt tokens while a sequence generated"));
        // 40 tokens, at most 8 a pass: at least five passes read the late prompt.
        Assert.True(all.Count(p => p.Generating && p.Prompt > 0) >= 5);
        Assert.Equal(12 + 40, all.Sum(p => p.Prompt));
    }

    [Fact]
    public async Task A_shared_prefix_is_reused_without_changing_a_logit()
    {
        int[] first = [1, 5, 9, 33, 100, 7, 8, 9, 10, 11];
        int[] second = [.. first, 40, 41, 42];

        async Task<(List<float[]> Logits, GenerationResult Result, long Evaluated)> Run(bool prefixCache)
        {
            using var executor = new BatchExecutor(_model, _tokenizer, new BatchExecutorOptions { MaxSequences = 2, ContextLength = 128, PrefixCache = prefixCache });
            var logits = new List<float[]>();
            await Collect(executor.GenerateAsync(first, Greedy(), Options(4)));
            long before = executor.Statistics.EvaluatedTokens;
            executor.ObserveLogits = (prompt, row) => logits.Add(row.ToArray());
            var (_, _, result) = await Collect(executor.GenerateAsync(second, Greedy(), Options(8)));
            return (logits, result, executor.Statistics.EvaluatedTokens - before);
        }

        var cached = await Run(prefixCache: true);
        var fresh = await Run(prefixCache: false);

        Assert.Equal(first.Length, cached.Result.CachedPromptTokens);
        Assert.Equal(0, fresh.Result.CachedPromptTokens);
        Assert.Equal(second.Length + 7, fresh.Evaluated);
        Assert.Equal(second.Length - first.Length + 7, cached.Evaluated);
        Assert.Equal(8, cached.Logits.Count);
        for (int i = 0; i < fresh.Logits.Count; i++) Assert.Equal(fresh.Logits[i], cached.Logits[i]);
    }

    [Fact]
    public async Task A_repeated_prompt_reuses_all_but_its_last_token_and_a_thread_reuses_its_earlier_turn()
    {
        using var executor = new BatchExecutor(_model, _tokenizer, new BatchExecutorOptions { MaxSequences = 2, ContextLength = 128 });
        var one = await Collect(executor.GenerateAsync(Prompts[1], Greedy(), Options(6)));
        var again = await Collect(executor.GenerateAsync(Prompts[1], Greedy(), Options(6)));
        Assert.Equal(one.Tokens, again.Tokens);
        Assert.Equal(Prompts[1].Length - 1, again.Result.CachedPromptTokens);

        // The next turn of a conversation: the earlier prompt, the answer (all but its last token was evaluated), more.
        int[] next = [.. Prompts[1], .. one.Tokens, 9, 10];
        var turn = await Collect(executor.GenerateAsync(next, Greedy(), Options(6)));
        Assert.Equal(Prompts[1].Length + one.Tokens.Length - 1, turn.Result.CachedPromptTokens);
        Assert.Equal((await Alone(next, 6)).Tokens, turn.Tokens);
    }

    [Fact]
    public async Task Cancellation_ends_a_stream_between_tokens_and_frees_its_place()
    {
        using var executor = new BatchExecutor(_model, _tokenizer, new BatchExecutorOptions { MaxSequences = 1, ContextLength = 128 });
        using var cts = new CancellationTokenSource();
        var chunks = new List<GenerationChunk>();
        await foreach (var chunk in executor.GenerateAsync(Prompts[0], Greedy(), Options(100), cts.Token))
        {
            chunks.Add(chunk);
            if (chunks.Count == 3) cts.Cancel();
        }
        var result = chunks[^1].Result!;
        Assert.Equal(FinishReason.Cancelled, result.FinishReason);
        // Generation runs at most a few chunks ahead of its reader, then waits for it.
        Assert.InRange(result.CompletionTokens, 3, 3 + BatchExecutor.MaxUnreadChunks + 1);

        // Cancelled before it got a place: it ends at once, without evaluating anything.
        using var blocker = new CancellationTokenSource();
        var running = executor.GenerateAsync(Prompts[2], Greedy(), Options(100), blocker.Token).GetAsyncEnumerator();
        Assert.True(await running.MoveNextAsync());
        using var waitingCts = new CancellationTokenSource();
        var waitingTask = Collect(executor.GenerateAsync(Prompts[3], Greedy(), Options(5), waitingCts.Token));
        await Task.Delay(50);
        waitingCts.Cancel();
        var waiting = await waitingTask;
        Assert.Equal(FinishReason.Cancelled, waiting.Result.FinishReason);
        Assert.Equal(0, waiting.Result.CompletionTokens);

        // A reader that stops reading frees the place too: the next request runs to its end.
        await running.DisposeAsync();
        var after = await Collect(executor.GenerateAsync(Prompts[4], Greedy(), Options(5)));
        Assert.Equal(FinishReason.Length, after.Result.FinishReason);
        Assert.Equal((await Alone(Prompts[4], 5)).Tokens, after.Tokens);
    }

    [Fact]
    public async Task Stop_strings_and_the_end_of_the_context_end_a_sequence()
    {
        using var executor = new BatchExecutor(_model, _tokenizer, new BatchExecutorOptions { MaxSequences = 2, ContextLength = 16 });
        var full = await Collect(executor.GenerateAsync(Prompts[1], Greedy(), Options(100)));
        Assert.Equal(FinishReason.Length, full.Result.FinishReason);
        Assert.Equal(16 - Prompts[1].Length + 1, full.Result.CompletionTokens); // the last token is sampled, not evaluated

        var reference = await Alone(Prompts[0], 12);
        string stop = reference.Text.Length > 6 ? reference.Text.Substring(3, 2) : reference.Text;
        var stopped = await Collect(executor.GenerateAsync(Prompts[0], Greedy(), Options(12) with { StopStrings = [stop] }));
        Assert.Equal(FinishReason.Stop, stopped.Result.FinishReason);
        Assert.Equal(stop, stopped.Result.StopString);
        Assert.Equal(reference.Text[..reference.Text.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
    }

    [Fact]
    public async Task Bad_requests_are_refused_up_front_and_disposal_ends_running_streams()
    {
        var executor = new BatchExecutor(_model, _tokenizer, new BatchExecutorOptions { MaxSequences = 1, ContextLength = 100 });
        Assert.Throws<ArgumentException>(() => executor.GenerateAsync(Array.Empty<int>(), Greedy(), Options()));
        Assert.Throws<ArgumentException>(() => executor.GenerateAsync(new[] { 300 }, Greedy(), Options()));
        Assert.Throws<ArgumentException>(() => executor.GenerateAsync(Prompts[0], new Sampler(10, SamplingOptions.Greedy), Options()));
        Assert.Throws<ContextOverflowException>(() => executor.GenerateAsync(new int[101], Greedy(), Options()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchExecutor(_model, _tokenizer, new BatchExecutorOptions { MaxSequences = 4, MaxBatchTokens = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchExecutor(_model, _tokenizer, new BatchExecutorOptions { MaxPromptTokensWhileGenerating = 0 }));

        var running = executor.GenerateAsync(Prompts[0], Greedy(), Options(1000)).GetAsyncEnumerator();
        Assert.True(await running.MoveNextAsync());
        executor.Dispose();
        GenerationChunk last = default;
        while (await running.MoveNextAsync()) last = running.Current;
        Assert.Equal(FinishReason.Cancelled, last.Result!.FinishReason);
        Assert.Throws<ObjectDisposedException>(() => executor.GenerateAsync(Prompts[0], Greedy(), Options()));
    }
}

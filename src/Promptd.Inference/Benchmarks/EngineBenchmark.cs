using System.Diagnostics;
using Promptd.Inference.Batching;
using Promptd.Inference.Generation;
using Promptd.Inference.Models;
using Promptd.Inference.Sampling;
using Promptd.Inference.Tokenization;

namespace Promptd.Inference.Benchmarks;

/// <summary>What <see cref="EngineBenchmark"/> measures.</summary>
public sealed record EngineBenchmarkOptions
{
    /// <summary>Tokens of the prompt test (llama-bench's pp): evaluated in one batch from an empty cache.</summary>
    public int PromptTokens { get; init; } = 64;

    /// <summary>Tokens of the generation test (llama-bench's tg): evaluated one at a time from an empty cache, each sampled greedily from the last.</summary>
    public int GenerationTokens { get; init; } = 32;

    /// <summary>Timed runs of each test, after one untimed warm-up run; the median is reported.</summary>
    public int Repeats { get; init; } = 5;

    /// <summary>Concurrent generation streams (above 1: through the batch executor).</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>Run even a single stream through the batch executor (for a like-for-like concurrency table).</summary>
    public bool ThroughExecutor { get; init; }

    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;

    /// <summary>Seed of the random prompt tokens.</summary>
    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (PromptTokens <= 0 || GenerationTokens <= 0 || Repeats <= 0 || Concurrency <= 0)
            throw new ArgumentException("prompt tokens, generation tokens, repeats and concurrency must all be positive");
    }
}

/// <summary>The measurements, in tokens per second unless named otherwise.</summary>
public sealed record EngineBenchmarkResult
{
    public required string Kernels { get; init; }
    public required int Threads { get; init; }
    public required int PromptTokens { get; init; }
    public required int GenerationTokens { get; init; }
    public required int Concurrency { get; init; }
    /// <summary>Prompt tokens/s; with concurrency, all streams' prompt tokens over the time until every stream had its first token.</summary>
    public required double PromptTokensPerSecond { get; init; }

    /// <summary>Generation tokens/s; with concurrency, all streams together (aggregate).</summary>
    public required double GenerationTokensPerSecond { get; init; }
    public required double[] PromptRuns { get; init; }
    public required double[] GenerationRuns { get; init; }

    /// <summary>
    /// Bytes allocated (all threads) per generated token over the timed generation runs: the engine
    /// alone for one stream; with concurrency, including the streamed chunks' text and the channels.
    /// </summary>
    public required double AllocatedBytesPerToken { get; init; }

    /// <summary>Bytes of the KV caches the test sessions hold.</summary>
    public required long KvCacheBytes { get; init; }
}

/// <summary>
/// llama-bench's two tests on a loaded model, so the numbers compare with llama.cpp's: pp (a prompt
/// in one batch from an empty cache) and tg (tokens one at a time from an empty cache), each run
/// once untimed to warm up (JIT tiers, page faults), then <see cref="EngineBenchmarkOptions.Repeats"/> times.
/// </summary>
public static class EngineBenchmark
{
    /// <summary>One stream through a session, or (concurrency above 1) several through the batch executor.</summary>
    public static Task<EngineBenchmarkResult> RunAsync(TransformerModel model, EngineBenchmarkOptions options)
    {
        options.Validate();
        return options.Concurrency > 1 || options.ThroughExecutor ? RunConcurrentAsync(model, options) : Task.FromResult(RunSingle(model, options));
    }

    /// <summary>
    /// <see cref="EngineBenchmarkOptions.Concurrency"/> streams through one <see cref="BatchExecutor"/>,
    /// each with its own random prompt and greedy generation (no prefix reuse, no early stop).
    /// Generation tokens/s counts the tokens that arrive once every stream is generating (see
    /// <see cref="ConcurrentRates"/>).
    /// </summary>
    private static async Task<EngineBenchmarkResult> RunConcurrentAsync(TransformerModel model, EngineBenchmarkOptions options)
    {
        int streams = options.Concurrency, vocab = model.Config.VocabSize;
        var tokenizer = new Tokenizer(Vocabulary.FromMetadata(model.Metadata));
        int context = options.PromptTokens + options.GenerationTokens + 1;
        using var executor = new BatchExecutor(model, tokenizer, new BatchExecutorOptions
        {
            MaxSequences = streams,
            ContextLength = context,
            KvCacheType = options.KvCacheType,
            MaxBatchTokens = Math.Max(streams, Math.Min(streams * options.PromptTokens, 4096)),
            PrefixCache = false,
        });
        var random = new Random(options.Seed);
        var generation = new GenerationOptions { MaxTokens = options.GenerationTokens, StopAtEndOfGeneration = false };
        // Made once, outside the measured rounds: a sampler's buffers are sized by the vocabulary.
        var samplers = new Sampler[streams];
        var prompts = new int[streams][];
        for (int s = 0; s < streams; s++)
        {
            samplers[s] = new Sampler(vocab, SamplingOptions.Greedy);
            prompts[s] = new int[options.PromptTokens];
        }

        // Every token's arrival time, per stream (allocated once: the rounds measure allocation).
        var arrivals = new long[streams][];
        for (int s = 0; s < streams; s++) arrivals[s] = new long[options.GenerationTokens];
        var counts = new int[streams];
        var tasks = new Task[streams];

        async Task<(double Prompt, double Generation, long Tokens)> Round()
        {
            Array.Clear(counts);
            long start = Stopwatch.GetTimestamp();
            for (int s = 0; s < streams; s++)
            {
                var prompt = prompts[s];
                for (int i = 0; i < prompt.Length; i++) prompt[i] = random.Next(vocab);
                samplers[s].Reset();
                tasks[s] = Read(s, prompt);
            }
            await Task.WhenAll(tasks);
            return ConcurrentRates(arrivals, counts, start, options.PromptTokens);
        }

        // Called in the loop above, not queued to the thread pool: each request reaches the executor
        // before the next stream starts (a busy pool would start them forward passes apart).
        async Task Read(int stream, int[] prompt)
        {
            await foreach (var chunk in executor.GenerateAsync(prompt, samplers[stream], generation))
                if (chunk.TokenId is not null) arrivals[stream][counts[stream]++] = Stopwatch.GetTimestamp();
        }

        await Round();
        var promptRuns = new double[options.Repeats];
        var generationRuns = new double[options.Repeats];
        long allocated = 0, tokens = 0;
        for (int r = 0; r < options.Repeats; r++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            (promptRuns[r], generationRuns[r], long generated) = await Round();
            allocated += GC.GetTotalAllocatedBytes(precise: true) - before;
            tokens += generated;
        }
        return new EngineBenchmarkResult
        {
            Kernels = model.Kernels.Name,
            Threads = model.Pool.Threads,
            PromptTokens = options.PromptTokens,
            GenerationTokens = options.GenerationTokens,
            Concurrency = streams,
            PromptTokensPerSecond = Median(promptRuns),
            GenerationTokensPerSecond = Median(generationRuns),
            PromptRuns = promptRuns,
            GenerationRuns = generationRuns,
            AllocatedBytesPerToken = (double)allocated / tokens,
            KvCacheBytes = streams * KvCacheBytes(model, context, options.KvCacheType),
        };
    }

    /// <summary>
    /// A round's prompt rate (every stream's prompt, from the start to the last first token) and its
    /// aggregate generation rate: the tokens that arrive once every stream is generating, over the
    /// time from then to the last token. A request that reached the executor a pass before the others
    /// (the executor starts on the first one) has its first token long before theirs, and the others'
    /// prompts are read meanwhile: counted from the first first token, that prompt work would be
    /// charged to generation.
    /// </summary>
    internal static (double Prompt, double Generation, long Tokens) ConcurrentRates(long[][] arrivals, int[] counts, long start, int promptTokens)
    {
        long allGenerating = 0, end = 0, tokens = 0;
        for (int s = 0; s < counts.Length; s++)
        {
            allGenerating = Math.Max(allGenerating, arrivals[s][0]);
            end = Math.Max(end, arrivals[s][counts[s] - 1]);
            tokens += counts[s];
        }
        long generated = 0;
        for (int s = 0; s < counts.Length; s++)
            for (int i = 0; i < counts[s]; i++)
                if (arrivals[s][i] > allGenerating) generated++;
        return ((double)counts.Length * promptTokens / Stopwatch.GetElapsedTime(start, allGenerating).TotalSeconds,
            end > allGenerating ? generated / Stopwatch.GetElapsedTime(allGenerating, end).TotalSeconds : 0,
            tokens);
    }

    private static EngineBenchmarkResult RunSingle(TransformerModel model, EngineBenchmarkOptions options)
    {
        int vocab = model.Config.VocabSize;
        var random = new Random(options.Seed);
        var prompt = new int[options.PromptTokens];
        for (int i = 0; i < prompt.Length; i++) prompt[i] = random.Next(vocab);

        using var session = model.CreateSession(new InferenceSessionOptions
        {
            KvCacheType = options.KvCacheType,
            ContextLength = Math.Max(options.PromptTokens, options.GenerationTokens),
            BatchSize = options.PromptTokens,
        });
        var sampler = new Sampler(vocab, SamplingOptions.Greedy);
        var logits = new float[vocab];
        var next = new int[1];

        double Prompt()
        {
            session.Rewind(0);
            long start = Stopwatch.GetTimestamp();
            session.Evaluate(prompt, logits);
            return prompt.Length / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        double Generate()
        {
            session.Rewind(0);
            next[0] = prompt[0];
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < options.GenerationTokens; i++)
            {
                session.Evaluate(next, logits);
                next[0] = sampler.Sample(logits);
            }
            return options.GenerationTokens / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Prompt();
        Generate();
        var promptRuns = new double[options.Repeats];
        var generationRuns = new double[options.Repeats];
        long allocated = 0;
        for (int r = 0; r < options.Repeats; r++)
        {
            promptRuns[r] = Prompt();
            long before = GC.GetTotalAllocatedBytes(precise: true);
            generationRuns[r] = Generate();
            allocated += GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        return new EngineBenchmarkResult
        {
            Kernels = model.Kernels.Name,
            Threads = model.Pool.Threads,
            PromptTokens = options.PromptTokens,
            GenerationTokens = options.GenerationTokens,
            Concurrency = 1,
            PromptTokensPerSecond = Median(promptRuns),
            GenerationTokensPerSecond = Median(generationRuns),
            PromptRuns = promptRuns,
            GenerationRuns = generationRuns,
            AllocatedBytesPerToken = (double)allocated / ((long)options.Repeats * options.GenerationTokens),
            KvCacheBytes = KvCacheBytes(model, session.ContextLength, options.KvCacheType),
        };
    }

    public static long KvCacheBytes(TransformerModel model, int context, KvCacheType type)
    {
        var c = model.Config;
        return 2L * c.LayerCount * context * c.KvLength * KvCache.ElementType(type).RowBytes(1);
    }

    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

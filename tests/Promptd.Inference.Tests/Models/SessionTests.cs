using Promptd.Inference.Gguf;
using Promptd.Inference.Kernels;
using Promptd.Inference.Models;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Models;

public class SessionTests
{
    private static readonly int[] Tokens = [1, 17, 260, 42, 5, 299, 100, 3, 77, 150];

    private static string Llama => GeneratedModels.Get("llama", GeneratedModels.Small);
    private static string Qwen => GeneratedModels.Get("qwen2-Q8_0", GeneratedModels.Small with { Architecture = "qwen2", WeightType = GgmlType.Q8_0 });

    public static TheoryData<string, KvCacheType, KernelPath> Models =>
        KernelPathData.Each([("llama", KvCacheType.F32), ("llama", KvCacheType.F16), ("qwen2-Q8_0", KvCacheType.F16)]);

    private static string PathOf(string name) => name == "llama" ? Llama : Qwen;

    private static float[] EvaluateAll(TransformerSession session, int[] tokens)
    {
        var logits = new float[tokens.Length * session.VocabSize];
        session.Evaluate(tokens, logits);
        return logits;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Batched_evaluation_equals_token_by_token_evaluation(string name, KvCacheType kv, KernelPath path)
    {
        using var model = TransformerModel.Load(PathOf(name), KernelPathData.Options(path));
        using var batched = model.CreateSession(new InferenceSessionOptions { KvCacheType = kv });
        using var single = model.CreateSession(new InferenceSessionOptions { KvCacheType = kv });
        var all = EvaluateAll(batched, Tokens);
        int vocab = model.Config.VocabSize;
        var one = new float[vocab];
        for (int t = 0; t < Tokens.Length; t++)
        {
            single.Evaluate(Tokens.AsSpan(t, 1), one);
            // Every row goes through the same arithmetic in either case: the results are identical.
            Assert.Equal(all.AsSpan(t * vocab, vocab).ToArray(), one);
        }
        Assert.Equal(Tokens.Length, single.Position);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Small_batches_give_the_same_logits_as_one_batch(string name, KvCacheType kv, KernelPath path)
    {
        using var model = TransformerModel.Load(PathOf(name), KernelPathData.Options(path));
        using var whole = model.CreateSession(new InferenceSessionOptions { KvCacheType = kv });
        using var chunked = model.CreateSession(new InferenceSessionOptions { KvCacheType = kv, BatchSize = 3 });
        Assert.Equal(EvaluateAll(whole, Tokens), EvaluateAll(chunked, Tokens));
    }

    [Fact]
    public void Last_token_logits_are_the_last_row_of_all_logits()
    {
        using var model = TransformerModel.Load(Llama);
        using var a = model.CreateSession();
        using var b = model.CreateSession();
        var all = EvaluateAll(a, Tokens);
        var last = new float[model.Config.VocabSize];
        b.Evaluate(Tokens, last);
        Assert.Equal(all.AsSpan(all.Length - last.Length).ToArray(), last);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Rewind_then_reevaluate_gives_the_same_logits(string name, KvCacheType kv, KernelPath path)
    {
        using var model = TransformerModel.Load(PathOf(name), KernelPathData.Options(path));
        using var session = model.CreateSession(new InferenceSessionOptions { KvCacheType = kv });
        var first = EvaluateAll(session, Tokens);
        session.Rewind(4);
        Assert.Equal(4, session.Position);
        var again = EvaluateAll(session, Tokens[4..]);
        int vocab = model.Config.VocabSize;
        Assert.Equal(first.AsSpan(4 * vocab).ToArray(), again);

        // A different continuation after rewinding must not see the forgotten tokens.
        session.Rewind(4);
        var other = EvaluateAll(session, [9, 9, 9]);
        using var fresh = model.CreateSession(new InferenceSessionOptions { KvCacheType = kv });
        var expected = EvaluateAll(fresh, [.. Tokens[..4], 9, 9, 9]);
        Assert.Equal(expected.AsSpan(4 * vocab).ToArray(), other);
    }

    [Fact]
    public void Sessions_on_many_threads_share_one_model()
    {
        using var model = TransformerModel.Load(Qwen);
        float[] expected;
        using (var s = model.CreateSession()) expected = EvaluateAll(s, Tokens);
        var results = new float[4][];
        Parallel.For(0, results.Length, i =>
        {
            using var s = model.CreateSession();
            results[i] = EvaluateAll(s, Tokens);
        });
        foreach (var r in results) Assert.Equal(expected, r);
    }

    [Fact]
    public void Bad_calls_fail_with_clear_argument_errors()
    {
        using var model = TransformerModel.Load(Llama);
        using var session = model.CreateSession(new InferenceSessionOptions { ContextLength = 8 });
        int vocab = session.VocabSize;
        var logits = new float[vocab];

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => session.Evaluate([1, vocab], logits));
        Assert.Contains($"token id {vocab}", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => session.Evaluate([-1], logits));
        Assert.Throws<ArgumentException>(() => session.Evaluate([], logits));
        Assert.Contains("logits must hold", Assert.Throws<ArgumentException>(() => session.Evaluate([1, 2], new float[vocab + 1])).Message);
        Assert.Contains("do not fit the context of 8", Assert.Throws<ArgumentException>(() => session.Evaluate(new int[9], logits)).Message);
        Assert.Equal(0, session.Position); // nothing was evaluated by the failed calls

        session.Evaluate(new int[8], logits);
        Assert.Throws<ArgumentException>(() => session.Evaluate([1], logits));
        Assert.Throws<ArgumentOutOfRangeException>(() => session.Rewind(9));
        Assert.Throws<ArgumentOutOfRangeException>(() => session.Rewind(-1));
        session.Rewind(0);
        session.Evaluate([1], logits);
        Assert.Equal(1, session.Position);
    }

    [Fact]
    public void Sessions_keep_the_model_mapped_until_they_are_disposed()
    {
        var model = TransformerModel.Load(Llama);
        var session = model.CreateSession();
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.CreateSession());
        var logits = new float[session.VocabSize];
        session.Evaluate([1, 2, 3], logits); // still mapped: the session holds a reference
        Assert.Contains(logits, v => v != 0);
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.Evaluate([1], logits));
    }

    [Fact]
    public void Default_context_is_the_trained_one_capped_and_can_be_overridden()
    {
        using var model = TransformerModel.Load(Llama);
        using var byDefault = model.CreateSession();
        Assert.Equal(GeneratedModels.Small.ContextLength, byDefault.ContextLength);
        // A context beyond the trained one is allowed (some converters write a too small value).
        using var longer = model.CreateSession(new InferenceSessionOptions { ContextLength = 200 });
        Assert.Equal(200, longer.ContextLength);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.CreateSession(new InferenceSessionOptions { ContextLength = 0 }));
    }

    public static TheoryData<GgmlType, KvCacheType, KernelPath> AllocationCases =>
        KernelPathData.Each([(GgmlType.Q4_K, KvCacheType.F16), (GgmlType.Q5_1, KvCacheType.F32), (GgmlType.F16, KvCacheType.F16), (GgmlType.Q8_0, KvCacheType.F16)]);

    [Theory]
    [MemberData(nameof(AllocationCases))]
    public void Evaluating_a_token_allocates_nothing(GgmlType type, KvCacheType kv, KernelPath path)
    {
        var spec = (Promptd.Inference.Tensors.TensorTypes.Get(type).BlockSize == 256 ? GeneratedModels.SmallK : GeneratedModels.Small) with { WeightType = type };
        using var model = TransformerModel.Load(GeneratedModels.Get($"llama-{type}", spec), new ModelOptions { Kernels = path, Threads = 2 });
        using var session = model.CreateSession(new InferenceSessionOptions { KvCacheType = kv });
        var logits = new float[session.VocabSize];
        int[] prompt = [1, 2, 3, 4];
        int[] next = [5];
        session.Evaluate(prompt, logits); // first use: lazy initialisation, JIT
        session.Evaluate(next, logits);

        long workers = long.MaxValue;
        long caller = Allocations.Steady(() =>
        {
            long before = model.Pool.WorkerAllocatedBytes;
            session.Evaluate(next, logits);
            session.Evaluate(prompt, logits);
            workers = Math.Min(workers, model.Pool.WorkerAllocatedBytes - before);
        });
        Assert.Equal(0, caller);
        Assert.Equal(0, workers);
    }

    [Fact]
    public void A_long_prompt_gives_the_same_logits_on_one_thread_and_two()
    {
        // 40 tokens × n_ff 1024 is enough for the feed-forward gate to be shared by the pool's threads.
        var spec = GeneratedModels.Small with { FeedForwardLength = 1024, WeightType = GgmlType.Q8_0 };
        string path = GeneratedModels.Get("llama-wide-ffn", spec);
        var prompt = new int[40];
        for (int i = 0; i < prompt.Length; i++) prompt[i] = (i * 37 + 11) % spec.VocabSize;

        float[] Logits(int threads)
        {
            using var model = TransformerModel.Load(path, new ModelOptions { Threads = threads });
            using var session = model.CreateSession();
            var logits = new float[session.VocabSize];
            session.Evaluate(prompt, logits);
            return logits;
        }

        var one = Logits(1);
        Assert.Contains(one, v => v != 0);
        Assert.Equal(one, Logits(2));
    }
}

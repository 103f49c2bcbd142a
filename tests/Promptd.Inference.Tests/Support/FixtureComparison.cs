using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Promptd.Inference.Kernels;
using Promptd.Inference.Models;
using Promptd.TestSupport;

namespace Promptd.Inference.Tests.Support;

/// <summary>
/// One fixture model evaluated the way llama.cpp produced its reference files: the tokens of
/// tokens.csv in one batch (all logits), then 16 greedy steps. Steps are teacher-forced with the
/// reference tokens, so every step's logits can be compared even after a near-tie flips the
/// argmax. Computed once per (model, cache, kernel path).
/// </summary>
public sealed class FixtureComparison
{
    private static readonly ConcurrentDictionary<(string, KvCacheType, KernelPath), Lazy<FixtureComparison>> Cache = new();

    public required string Name { get; init; }
    public required KvCacheType Kv { get; init; }

    /// <summary>|engine − llama.cpp| for every logit of the batch evaluation.</summary>
    public required float[] BatchErrors { get; init; }

    /// <summary>|engine − llama.cpp| for every logit of the teacher-forced greedy steps (empty when there is no steplogits file).</summary>
    public required float[] StepErrors { get; init; }

    public required int[] ReferenceGreedy { get; init; }

    /// <summary>Top-two margin of the reference logits at each greedy step (NaN when unknown).</summary>
    public required float[] ReferenceMargins { get; init; }

    /// <summary>The engine's greedy choices; meaningful up to (and including) the first one that differs from the reference.</summary>
    public required int[] EngineGreedy { get; init; }

    /// <summary>Top-two margin of the engine's own logits at each greedy step.</summary>
    public required float[] EngineMargins { get; init; }

    public float MaxError => Math.Max(BatchErrors.Max(), StepErrors.Length > 0 ? StepErrors.Max() : 0);

    public static FixtureComparison Get(string name, KvCacheType kv, KernelPath path) =>
        Cache.GetOrAdd((name, kv, path), key => new Lazy<FixtureComparison>(() => Compute(key.Item1, key.Item2, key.Item3))).Value;

    public static string SuffixOf(KvCacheType kv) => kv == KvCacheType.F32 ? ".kvf32" : "";

    private static FixtureComparison Compute(string name, KvCacheType kv, KernelPath path)
    {
        string folder = name.StartsWith("stories", StringComparison.Ordinal) ? "stories" : "gguf";
        string Fixture(string suffix) => Fixtures.Path(folder, name + SuffixOf(kv) + suffix);
        int[] tokens = ReadIds(Fixtures.Path(folder, "tokens.csv"));

        using var model = TransformerModel.Load(Fixtures.Path(folder, name + ".gguf"), KernelPathData.Options(path));
        int vocab = model.Config.VocabSize;
        var expected = ReadFloats(Fixture(".logits.bin"));

        using var session = model.CreateSession(new InferenceSessionOptions { KvCacheType = kv });
        var logits = new float[tokens.Length * vocab];
        session.Evaluate(tokens, logits);
        var batchErrors = Differences(logits, expected);
        var last = logits.AsSpan(logits.Length - vocab).ToArray();

        string greedyFile = Fixture(".greedy.txt");
        int[] reference = File.Exists(greedyFile) ? ReadIds(greedyFile) : [];
        string stepsFile = Fixture(".greedy-steplogits.bin");
        float[]? steps = File.Exists(stepsFile) ? ReadFloats(stepsFile) : null;

        // Teacher-forced: feed the reference tokens and compare each step's logits. Until the first
        // step where the engine's argmax differs, this is also the engine's own greedy run.
        var stepErrors = new List<float>();
        var margins = new float[reference.Length];
        var engineGreedy = new int[reference.Length];
        var engineMargins = new float[reference.Length];
        var current = last;
        var next = new float[vocab];
        for (int s = 0; s < reference.Length; s++)
        {
            engineGreedy[s] = Greedy.ArgMax(current);
            engineMargins[s] = TopTwoMargin(current);
            if (steps is not null)
            {
                var expectedStep = steps.AsSpan(s * vocab, vocab);
                stepErrors.AddRange(Differences(current, expectedStep));
                margins[s] = TopTwoMargin(expectedStep);
            }
            else margins[s] = float.NaN;
            session.Evaluate([reference[s]], next);
            (current, next) = (next, current);
        }

        return new FixtureComparison
        {
            Name = name, Kv = kv, BatchErrors = batchErrors, StepErrors = [.. stepErrors],
            ReferenceGreedy = reference, ReferenceMargins = margins, EngineGreedy = engineGreedy, EngineMargins = engineMargins,
        };
    }

    public static float TopTwoMargin(ReadOnlySpan<float> logits)
    {
        float first = float.NegativeInfinity, second = float.NegativeInfinity;
        foreach (float v in logits)
        {
            if (v > first) (first, second) = (v, first);
            else if (v > second) second = v;
        }
        return first - second;
    }

    public static float[] Differences(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length) throw new InvalidOperationException($"{actual.Length} logits against {expected.Length} in the fixture");
        var d = new float[actual.Length];
        for (int i = 0; i < d.Length; i++) d[i] = Math.Abs(actual[i] - expected[i]);
        return d;
    }

    public static float[] ReadFloats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    public static int[] ReadIds(string path) =>
        [.. File.ReadAllText(path).Split([',', ' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
}

/// <summary>The greedy choice of the fixtures: the largest logit, ties to the lowest id.</summary>
public static class Greedy
{
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
}

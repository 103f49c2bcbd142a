using System.Globalization;
using System.Text;
using Promptd.Inference.Kernels;
using Promptd.Inference.Models;
using Promptd.Inference.Tests.Support;
using Promptd.TestSupport;
using Xunit.Abstractions;

namespace Promptd.Inference.Tests.Models;

/// <summary>
/// The engine against llama.cpp's logits and greedy tokens for every fixture model
/// (../shared/fixtures/README.md). Float models must agree within 1e-3. Quantized models agree to
/// ~1e-7 except where the two engines' float summation orders land an activation on opposite sides
/// of an 8-bit (or F16) rounding boundary; such a flip moves logits by up to ~2e-2, so quantized
/// models are held to 2.5e-2 per logit and, together, to 1e-3 for at least 75% of all logits
/// (an engine that skipped llama.cpp's activation quantization would fail that). Every check runs
/// on every kernel path the CPU has.
/// </summary>
public class FixtureLogitsTests(ITestOutputHelper output)
{
    private const float FloatTolerance = 1e-3f;
    private const float QuantizedTolerance = 2.5e-2f;
    private const double QuantizedShareWithinFloatTolerance = 0.75;

    /// <summary>Reference margin below which a single rounding flip may legitimately change the greedy choice.</summary>
    private const float NearTie = 1e-2f;

    private static readonly string[] Types = ["f32", "F16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q4_K_M", "Q5_K_M", "Q6_K"];

    public static readonly string[] ModelNames =
    [
        .. Types.Select(t => "tiny-llama-" + t),
        .. Types.Select(t => "tiny-qwen2-" + t),
        "tiny-llama-tied-f32", "tiny-llama-tied-Q8_0", "tiny-llama-tied-Q6_K", "tiny-llama-tied-Q4_K_M",
    ];

    private static IEnumerable<(string, KvCacheType)> ModelsAndCaches()
    {
        foreach (var name in ModelNames)
        {
            yield return (name, KvCacheType.F16);
            // llama.cpp's F32-cache references exist for some float models (the exact comparisons).
            if (IsFloat(name) && (!Fixtures.Available || File.Exists(Fixtures.Path("gguf", name + ".kvf32.logits.bin"))))
                yield return (name, KvCacheType.F32);
        }
    }

    public static TheoryData<string, KvCacheType, KernelPath> Cases() => KernelPathData.Each(ModelsAndCaches());

    public static TheoryData<KernelPath> Paths => KernelPathData.All;

    private static bool IsFloat(string name) => name.EndsWith("-f32", StringComparison.Ordinal) || name.EndsWith("-F16", StringComparison.Ordinal);

    [FixtureFact]
    public void Every_fixture_model_is_covered()
    {
        var files = Directory.GetFiles(Fixtures.Path("gguf"), "*.gguf").Select(Path.GetFileNameWithoutExtension).Order();
        Assert.Equal(ModelNames.Order(), files);
    }

    [FixtureTheory]
    [MemberData(nameof(Cases))]
    public void Logits_match_llama_cpp(string name, KvCacheType kv, KernelPath path)
    {
        var c = FixtureComparison.Get(name, kv, path);
        float tolerance = IsFloat(name) ? FloatTolerance : QuantizedTolerance;
        Assert.True(c.BatchErrors.Max() <= tolerance, $"{name}{FixtureComparison.SuffixOf(kv)}: batch logits differ by up to {c.BatchErrors.Max():E2}");
        if (c.StepErrors.Length > 0)
            Assert.True(c.StepErrors.Max() <= tolerance, $"{name}{FixtureComparison.SuffixOf(kv)}: greedy-step logits differ by up to {c.StepErrors.Max():E2}");
    }

    [FixtureTheory]
    [MemberData(nameof(Cases))]
    public void Greedy_tokens_match_llama_cpp_up_to_a_near_tie(string name, KvCacheType kv, KernelPath path)
    {
        var c = FixtureComparison.Get(name, kv, path);
        Assert.Equal(16, c.ReferenceGreedy.Length);
        for (int s = 0; s < c.ReferenceGreedy.Length; s++)
        {
            if (c.EngineGreedy[s] == c.ReferenceGreedy[s]) continue;
            // A divergence is accepted only where llama.cpp's own top two were nearly tied; after it the sequences differ.
            Assert.True(c.ReferenceMargins[s] < NearTie,
                $"{name}: step {s} picked {c.EngineGreedy[s]}, llama.cpp picked {c.ReferenceGreedy[s]} with a margin of {c.ReferenceMargins[s]:F4}");
            output.WriteLine($"{name}: near-tie at step {s} (reference margin {c.ReferenceMargins[s]:F4}); {s} tokens equal");
            return;
        }
    }

    [FixtureTheory]
    [MemberData(nameof(Paths))]
    public void Quantized_models_mostly_match_to_float_precision(KernelPath path)
    {
        var errors = ModelNames.Where(n => !IsFloat(n)).Select(n => FixtureComparison.Get(n, KvCacheType.F16, path))
            .SelectMany(c => c.BatchErrors.Concat(c.StepErrors)).ToArray();
        double share = errors.Count(e => e <= FloatTolerance) / (double)errors.Length;
        output.WriteLine($"{share:P1} of {errors.Length} quantized-model logits within {FloatTolerance:E0}");
        Assert.True(share >= QuantizedShareWithinFloatTolerance, $"only {share:P1} of quantized-model logits within {FloatTolerance:E0}");
    }

    /// <summary>The table of the report: the largest logit error per model and cache type.</summary>
    [FixtureTheory]
    [MemberData(nameof(Paths))]
    public void Report_errors_per_model(KernelPath path)
    {
        var table = new StringBuilder("| model | KV | max batch error | max step error | logits within 1e-3 | greedy equal |\n|---|---|---:|---:|---:|---:|\n");
        foreach (var (name, kv) in ModelsAndCaches())
        {
            var c = FixtureComparison.Get(name, kv, path);
            var all = c.BatchErrors.Concat(c.StepErrors).ToArray();
            int equal = c.EngineGreedy.Zip(c.ReferenceGreedy).TakeWhile(p => p.First == p.Second).Count();
            table.Append(CultureInfo.InvariantCulture, $"| {name} | {kv} | {c.BatchErrors.Max():E1} | {(c.StepErrors.Length > 0 ? c.StepErrors.Max().ToString("E1", CultureInfo.InvariantCulture) : "–")} | {all.Count(e => e <= FloatTolerance) * 100.0 / all.Length:F1}% | {equal}/16 |\n");
        }
        output.WriteLine(table.ToString());
        Assert.Contains("tiny-llama-f32", table.ToString());
    }
}

using Promptd.Inference.Gguf;
using Promptd.Inference.Kernels;
using Promptd.Inference.Models;
using Promptd.Inference.Synthetic;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Models;

/// <summary>The engine against the float64 reference on generated models, no fixtures needed.</summary>
public class ForwardPassReferenceTests
{
    private static readonly int[] Tokens = [1, 17, 260, 42, 5, 299, 100, 3, 77, 150, 2, 33];

    public static TheoryData<string, KernelPath> Float32Models =>
        KernelPathData.Each(["llama", "llama-tied", "qwen2", "qwen2-tied", "llama-rope-scaled", "llama-rope-factors"]);

    private static string Model(string name) => name switch
    {
        "llama" => GeneratedModels.Get(name, GeneratedModels.Small),
        "llama-tied" => GeneratedModels.Get(name, GeneratedModels.Small with { TiedOutput = true }),
        "qwen2" => GeneratedModels.Get(name, GeneratedModels.Small with { Architecture = "qwen2" }),
        "qwen2-tied" => GeneratedModels.Get(name, GeneratedModels.Small with { Architecture = "qwen2", TiedOutput = true }),
        "llama-rope-scaled" => GeneratedModels.Get(name, GeneratedModels.Small with { Seed = 5 },
            w => w.Set("llama.rope.scaling.type", "linear").Set("llama.rope.scaling.factor", 4f)),
        // Llama 3 style per-frequency factors (rope_freqs.weight) divide each pair's angle.
        "llama-rope-factors" => GeneratedModels.Get(name, GeneratedModels.Small with { Seed = 6 },
            w => w.AddTensor("rope_freqs.weight", GgmlType.F32, [8], [1f, 1f, 1.5f, 2f, 4f, 8f, 8f, 8f])),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Float32Models))]
    public void F32_model_with_F32_cache_matches_the_float64_reference(string name, KernelPath path)
    {
        double error = MaxError(Model(name), KvCacheType.F32, path);
        Assert.True(error < 1e-5, $"{name}: max |logit error| {error:E2}");
    }

    [Theory]
    [MemberData(nameof(Float32Models))]
    public void F16_cache_stays_close_to_the_float64_reference(string name, KernelPath path)
    {
        double error = MaxError(Model(name), KvCacheType.F16, path);
        Assert.True(error < 5e-3, $"{name}: max |logit error| {error:E2}");
    }

    /// <summary>
    /// Other weight types: the engine converts activations to 8-bit, F16 or BF16 before each product,
    /// as llama.cpp does, so it differs from a float64 pass over the same (dequantized) weights by
    /// about the activation rounding. The bound is relative to the largest logit.
    /// </summary>
    public static TheoryData<GgmlType, string, double, KernelPath> WeightTypes()
    {
        var data = new TheoryData<GgmlType, string, double, KernelPath>();
        (GgmlType, string, double)[] rows =
        [
            (GgmlType.F16, "llama", 5e-3),
            (GgmlType.BF16, "qwen2", 3e-2),
            (GgmlType.Q8_0, "llama", 0.06),
            (GgmlType.Q4_0, "qwen2", 0.06),
            (GgmlType.Q4_1, "llama", 0.06),
            (GgmlType.Q5_0, "llama", 0.06),
            (GgmlType.Q5_1, "qwen2", 0.06),
            (GgmlType.Q2_K, "llama", 0.2),
            (GgmlType.Q3_K, "qwen2", 0.2),
            (GgmlType.Q4_K, "llama", 0.2),
            (GgmlType.Q5_K, "qwen2", 0.2),
            (GgmlType.Q6_K, "llama", 0.2),
        ];
        foreach (var (type, architecture, bound) in rows)
            foreach (var path in KernelPathData.Paths) data.Add(type, architecture, bound, path);
        return data;
    }

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void Every_weight_type_runs_close_to_the_float64_reference(GgmlType type, string architecture, double relativeBound, KernelPath path)
    {
        bool kQuant = Promptd.Inference.Tensors.TensorTypes.Get(type).BlockSize == 256;
        var spec = (kQuant ? GeneratedModels.SmallK : GeneratedModels.Small) with { Architecture = architecture, WeightType = type };
        string file = GeneratedModels.Get($"{architecture}-{type}", spec);
        var reference = new Float64Transformer(file).Forward(Tokens);
        double largest = reference.Max(row => row.Max(Math.Abs));
        double error = MaxError(file, KvCacheType.F32, path, reference);
        Assert.True(error < relativeBound * largest, $"{type}: max |logit error| {error:E2} against logits up to {largest:F2}");
    }

    private static double MaxError(string file, KvCacheType kv, KernelPath path, double[][]? reference = null)
    {
        reference ??= new Float64Transformer(file).Forward(Tokens);
        using var model = TransformerModel.Load(file, KernelPathData.Options(path));
        using var session = model.CreateSession(new InferenceSessionOptions { KvCacheType = kv });
        int vocab = session.VocabSize;
        var logits = new float[Tokens.Length * vocab];
        session.Evaluate(Tokens, logits);
        double max = 0;
        for (int t = 0; t < Tokens.Length; t++)
            for (int i = 0; i < vocab; i++)
                max = Math.Max(max, Math.Abs(logits[t * vocab + i] - reference[t][i]));
        return max;
    }
}

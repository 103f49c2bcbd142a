using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>The tensor types this engine implements, one shared instance each.</summary>
public static class TensorTypes
{
    public static readonly TensorType F32 = new F32Type();
    public static readonly TensorType F16 = new F16Type();
    public static readonly TensorType BF16 = new BF16Type();
    public static readonly TensorType Q4_0 = new Q4_0Type();
    public static readonly TensorType Q4_1 = new Q4_1Type();
    public static readonly TensorType Q5_0 = new Q5_0Type();
    public static readonly TensorType Q5_1 = new Q5_1Type();
    public static readonly TensorType Q8_0 = new Q8_0Type();
    public static readonly TensorType Q8_1 = new Q8_1Type();
    public static readonly TensorType Q2_K = new Q2_KType();
    public static readonly TensorType Q3_K = new Q3_KType();
    public static readonly TensorType Q4_K = new Q4_KType();
    public static readonly TensorType Q5_K = new Q5_KType();
    public static readonly TensorType Q6_K = new Q6_KType();
    public static readonly TensorType Q8_K = new Q8_KType();

    /// <summary>Every implemented type, weight and activation formats alike.</summary>
    public static IReadOnlyList<TensorType> All { get; } =
        [F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K];

    /// <summary>The types a weight tensor may have (those with a dot product).</summary>
    public static IReadOnlyList<TensorType> WeightTypes { get; } = [.. All.Where(t => t.ActivationTypeId is not null)];

    public static TensorType? Find(GgmlType id)
    {
        foreach (var t in All)
            if (t.Id == id) return t;
        return null;
    }

    /// <summary>The implementation of <paramref name="id"/>; NotSupportedException naming the type otherwise.</summary>
    public static TensorType Get(GgmlType id) =>
        Find(id) ?? throw new NotSupportedException($"tensor type {GgmlTypeInfo.Name(id)} is not supported by this engine");
}

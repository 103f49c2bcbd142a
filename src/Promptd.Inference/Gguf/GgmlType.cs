namespace Promptd.Inference.Gguf;

/// <summary>Tensor element types, numbered as ggml numbers them in GGUF files.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
}

/// <summary>Block geometry of every ggml tensor type (ggml.c type_traits), so that a file holding
/// types this engine cannot compute still parses; <see cref="Tensors.TensorTypes"/> says which
/// types the engine implements.</summary>
public static class GgmlTypeInfo
{
    /// <summary>Elements per block and bytes per block; (0, 0) for numbers that are not ggml types.</summary>
    public static (int BlockSize, int BlockBytes) Geometry(GgmlType type) => type switch
    {
        GgmlType.F32 => (1, 4),
        GgmlType.F16 => (1, 2),
        GgmlType.BF16 => (1, 2),
        GgmlType.F64 => (1, 8),
        GgmlType.I8 => (1, 1),
        GgmlType.I16 => (1, 2),
        GgmlType.I32 => (1, 4),
        GgmlType.I64 => (1, 8),
        GgmlType.Q4_0 => (32, 18),
        GgmlType.Q4_1 => (32, 20),
        GgmlType.Q5_0 => (32, 22),
        GgmlType.Q5_1 => (32, 24),
        GgmlType.Q8_0 => (32, 34),
        GgmlType.Q8_1 => (32, 36),
        GgmlType.IQ4_NL => (32, 18),
        GgmlType.Q2_K => (256, 84),
        GgmlType.Q3_K => (256, 110),
        GgmlType.Q4_K => (256, 144),
        GgmlType.Q5_K => (256, 176),
        GgmlType.Q6_K => (256, 210),
        GgmlType.Q8_K => (256, 292),
        GgmlType.IQ2_XXS => (256, 66),
        GgmlType.IQ2_XS => (256, 74),
        GgmlType.IQ2_S => (256, 82),
        GgmlType.IQ3_XXS => (256, 98),
        GgmlType.IQ3_S => (256, 110),
        GgmlType.IQ1_S => (256, 50),
        GgmlType.IQ1_M => (256, 56),
        GgmlType.IQ4_XS => (256, 136),
        GgmlType.TQ1_0 => (256, 54),
        GgmlType.TQ2_0 => (256, 66),
        _ => (0, 0),
    };

    /// <summary>True for the numbers ggml assigns to a tensor type.</summary>
    public static bool IsKnown(GgmlType type) => Geometry(type).BlockSize != 0;

    /// <summary>Name as llama.cpp prints it, or the raw number for types it does not know.</summary>
    public static string Name(GgmlType type) =>
        Enum.IsDefined(type) ? type.ToString() : $"type {(uint)type}";

    /// <summary>Bytes taken by <paramref name="elements"/> elements; the count must be a whole number of blocks.</summary>
    public static long RowBytes(GgmlType type, long elements)
    {
        var (blockSize, blockBytes) = Geometry(type);
        if (blockSize == 0) throw new NotSupportedException($"unknown tensor type {Name(type)}");
        if (elements % blockSize != 0)
            throw new ArgumentException($"{elements} elements are not a whole number of {Name(type)} blocks of {blockSize}");
        return checked(elements / blockSize * blockBytes);
    }
}

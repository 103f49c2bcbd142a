using System.Buffers.Binary;
using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// One tensor element type with ggml's block layout and the scalar reference routines for it:
/// dequantize a row, quantize a row (ggml's deterministic <c>*_ref</c> quantizers), and the dot
/// product of a weight row with an activation row in the type ggml pairs it with
/// (<see cref="ActivationType"/>). Rows are whole numbers of blocks. SIMD kernels are checked
/// against these routines.
/// </summary>
public abstract class TensorType
{
    protected TensorType(GgmlType id, int blockSize, int blockBytes, GgmlType? activationType)
    {
        Id = id;
        BlockSize = blockSize;
        BlockBytes = blockBytes;
        ActivationTypeId = activationType;
    }

    public GgmlType Id { get; }
    public string Name => GgmlTypeInfo.Name(Id);

    /// <summary>Elements per block.</summary>
    public int BlockSize { get; }

    /// <summary>Bytes per block.</summary>
    public int BlockBytes { get; }

    /// <summary>ggml's vec_dot_type: the format activations are converted to before a dot product with
    /// a row of this type; null for types that exist only as activations (Q8_1, Q8_K).</summary>
    public GgmlType? ActivationTypeId { get; }

    private TensorType? _activationType;

    public TensorType ActivationType => _activationType ??= ActivationTypeId is { } t
        ? TensorTypes.Get(t)
        : throw new NotSupportedException($"{Name} is an activation format, not a weight type");

    /// <summary>Bytes taken by a row of <paramref name="elements"/> elements.</summary>
    public int RowBytes(int elements)
    {
        if (elements < 0 || elements % BlockSize != 0)
            throw new ArgumentException($"a {Name} row must be a whole number of {BlockSize}-element blocks, not {elements} elements");
        return checked(elements / BlockSize * BlockBytes);
    }

    /// <summary>Writes the <c>dst.Length</c> values of the row stored in <paramref name="src"/>.</summary>
    public void DequantizeRow(ReadOnlySpan<byte> src, Span<float> dst)
    {
        CheckBytes(src.Length, dst.Length, nameof(src));
        for (int b = 0; b < dst.Length / BlockSize; b++)
            DequantizeBlock(src.Slice(b * BlockBytes, BlockBytes), dst.Slice(b * BlockSize, BlockSize));
    }

    /// <summary>Quantizes <paramref name="src"/> with ggml's reference quantizer (the one that writes model files).</summary>
    public void QuantizeRow(ReadOnlySpan<float> src, Span<byte> dst)
    {
        CheckBytes(dst.Length, src.Length, nameof(dst));
        for (int b = 0; b < src.Length / BlockSize; b++)
            QuantizeBlock(src.Slice(b * BlockSize, BlockSize), dst.Slice(b * BlockBytes, BlockBytes));
    }

    /// <summary>
    /// Converts activations into this format the way ggml's CPU backend does before a matrix
    /// product. Usually the reference quantizer; Q8_0 and Q8_1 round slightly differently there.
    /// </summary>
    public void QuantizeActivationRow(ReadOnlySpan<float> src, Span<byte> dst)
    {
        CheckBytes(dst.Length, src.Length, nameof(dst));
        for (int b = 0; b < src.Length / BlockSize; b++)
            QuantizeActivationBlock(src.Slice(b * BlockSize, BlockSize), dst.Slice(b * BlockBytes, BlockBytes));
    }

    /// <summary>
    /// Dot product of a weight row of this type with an activation row in <see cref="ActivationType"/>
    /// format, both <paramref name="elements"/> long.
    /// </summary>
    public float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int elements)
    {
        CheckBytes(weights.Length, elements, nameof(weights));
        var activation = ActivationType;
        activation.CheckBytes(activations.Length, elements, nameof(activations));
        return DotRow(weights, activations, elements / BlockSize);
    }

    protected abstract void DequantizeBlock(ReadOnlySpan<byte> block, Span<float> values);

    protected abstract void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block);

    protected virtual void QuantizeActivationBlock(ReadOnlySpan<float> values, Span<byte> block) => QuantizeBlock(values, block);

    /// <summary>The dot product over <paramref name="blocks"/> whole blocks; lengths already checked.</summary>
    protected virtual float DotRow(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int blocks) =>
        throw new NotSupportedException($"{Name} is an activation format, not a weight type");

    private void CheckBytes(int byteCount, int elements, string parameter)
    {
        int needed = RowBytes(elements);
        if (byteCount < needed)
            throw new ArgumentException($"{elements} {Name} elements need {needed} bytes, got {byteCount}", parameter);
    }

    protected static float ReadHalf(ReadOnlySpan<byte> bytes, int offset) =>
        HalfFloat.F16ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(bytes[offset..]));

    protected static void WriteHalf(Span<byte> bytes, int offset, float value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[offset..], HalfFloat.FloatToF16(value));

    public override string ToString() => Name;
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

// The three float types. Each pairs with activations of its own type, as in ggml; products are
// formed in float and summed in double like ggml's scalar ggml_vec_dot_f32/f16/bf16.

public sealed class F32Type() : TensorType(GgmlType.F32, 1, 4, GgmlType.F32)
{
    protected override void DequantizeBlock(ReadOnlySpan<byte> block, Span<float> values) =>
        values[0] = BinaryPrimitives.ReadSingleLittleEndian(block);

    protected override void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block) =>
        BinaryPrimitives.WriteSingleLittleEndian(block, values[0]);

    protected override float DotRow(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int blocks)
    {
        var w = MemoryMarshal.Cast<byte, float>(weights[..(blocks * 4)]);
        var a = MemoryMarshal.Cast<byte, float>(activations[..(blocks * 4)]);
        double sum = 0;
        for (int i = 0; i < w.Length; i++) sum += w[i] * a[i];
        return (float)sum;
    }
}

public sealed class F16Type() : TensorType(GgmlType.F16, 1, 2, GgmlType.F16)
{
    protected override void DequantizeBlock(ReadOnlySpan<byte> block, Span<float> values) =>
        values[0] = ReadHalf(block, 0);

    protected override void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block) =>
        WriteHalf(block, 0, values[0]);

    protected override float DotRow(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int blocks)
    {
        var w = MemoryMarshal.Cast<byte, ushort>(weights[..(blocks * 2)]);
        var a = MemoryMarshal.Cast<byte, ushort>(activations[..(blocks * 2)]);
        double sum = 0;
        for (int i = 0; i < w.Length; i++) sum += HalfFloat.F16ToFloat(w[i]) * HalfFloat.F16ToFloat(a[i]);
        return (float)sum;
    }
}

public sealed class BF16Type() : TensorType(GgmlType.BF16, 1, 2, GgmlType.BF16)
{
    protected override void DequantizeBlock(ReadOnlySpan<byte> block, Span<float> values) =>
        values[0] = HalfFloat.BF16ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));

    protected override void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block) =>
        BinaryPrimitives.WriteUInt16LittleEndian(block, HalfFloat.FloatToBF16(values[0]));

    protected override float DotRow(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int blocks)
    {
        var w = MemoryMarshal.Cast<byte, ushort>(weights[..(blocks * 2)]);
        var a = MemoryMarshal.Cast<byte, ushort>(activations[..(blocks * 2)]);
        double sum = 0;
        for (int i = 0; i < w.Length; i++) sum += HalfFloat.BF16ToFloat(w[i]) * HalfFloat.BF16ToFloat(a[i]);
        return (float)sum;
    }
}

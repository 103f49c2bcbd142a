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

    protected override float DotRow(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int blocks) =>
        FloatDot.Sum(new Products(MemoryMarshal.Cast<byte, float>(weights[..(blocks * 4)]), MemoryMarshal.Cast<byte, float>(activations[..(blocks * 4)])), blocks);

    private readonly ref struct Products(ReadOnlySpan<float> w, ReadOnlySpan<float> a) : FloatDot.IProducts
    {
        private readonly ReadOnlySpan<float> _w = w, _a = a;
        public float this[int i] => _w[i] * _a[i];
    }
}

public sealed class F16Type() : TensorType(GgmlType.F16, 1, 2, GgmlType.F16)
{
    protected override void DequantizeBlock(ReadOnlySpan<byte> block, Span<float> values) =>
        values[0] = ReadHalf(block, 0);

    protected override void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block) =>
        WriteHalf(block, 0, values[0]);

    protected override float DotRow(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int blocks) =>
        FloatDot.Sum(new Products(MemoryMarshal.Cast<byte, ushort>(weights[..(blocks * 2)]), MemoryMarshal.Cast<byte, ushort>(activations[..(blocks * 2)])), blocks);

    private readonly ref struct Products(ReadOnlySpan<ushort> w, ReadOnlySpan<ushort> a) : FloatDot.IProducts
    {
        private readonly ReadOnlySpan<ushort> _w = w, _a = a;
        public float this[int i] => HalfFloat.F16ToFloat(_w[i]) * HalfFloat.F16ToFloat(_a[i]);
    }
}

public sealed class BF16Type() : TensorType(GgmlType.BF16, 1, 2, GgmlType.BF16)
{
    protected override void DequantizeBlock(ReadOnlySpan<byte> block, Span<float> values) =>
        values[0] = HalfFloat.BF16ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));

    protected override void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block) =>
        BinaryPrimitives.WriteUInt16LittleEndian(block, HalfFloat.FloatToBF16(values[0]));

    protected override float DotRow(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int blocks) =>
        FloatDot.Sum(new Products(MemoryMarshal.Cast<byte, ushort>(weights[..(blocks * 2)]), MemoryMarshal.Cast<byte, ushort>(activations[..(blocks * 2)])), blocks);

    private readonly ref struct Products(ReadOnlySpan<ushort> w, ReadOnlySpan<ushort> a) : FloatDot.IProducts
    {
        private readonly ReadOnlySpan<ushort> _w = w, _a = a;
        public float this[int i] => HalfFloat.BF16ToFloat(_w[i]) * HalfFloat.BF16ToFloat(_a[i]);
    }
}

/// <summary>Σ products in double; four partial sums, so the loop is not one long chain of dependent adds.</summary>
internal static class FloatDot
{
    public interface IProducts
    {
        float this[int i] { get; }
    }

    public static float Sum<T>(T products, int n) where T : IProducts, allows ref struct
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4)
        {
            s0 += products[i];
            s1 += products[i + 1];
            s2 += products[i + 2];
            s3 += products[i + 3];
        }
        for (; i < n; i++) s0 += products[i];
        return (float)(s0 + s1 + s2 + s3);
    }
}

using System.Buffers.Binary;
using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// Q5_1: d (f16), m (f16), 4 bytes of fifth bits, 16 bytes of low nibbles; value = q·d + m.
/// 24 bytes per 32 values.
/// </summary>
public sealed class Q5_1Type() : Block32Type(GgmlType.Q5_1, 24, GgmlType.Q8_1)
{
    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, out float d, out float m)
    {
        d = ReadHalf(block, 0);
        m = ReadHalf(block, 2);
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(block[4..]);
        UnpackNibbles(block[8..], qh, 0, levels);
    }

    protected override void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block)
    {
        var (min, max) = MinMax(values);
        float d = (max - min) / 31;
        float id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(block, 0, d);
        WriteHalf(block, 2, min);
        Span<int> q = stackalloc int[Size];
        // ggml's reference does not clamp here: (max − min)·id + 0.5 truncates to at most 31.
        for (int i = 0; i < Size; i++) q[i] = (byte)(int)((values[i] - min) * id + 0.5f);
        BinaryPrimitives.WriteUInt32LittleEndian(block[4..], HighBits(q));
        PackNibbles(q, block[8..]);
    }
}

using System.Buffers.Binary;
using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// Q5_0: d (f16), 4 bytes of fifth bits (bit i for value i), 16 bytes of low nibbles;
/// value = (q − 16)·d. 22 bytes per 32 values.
/// </summary>
public sealed class Q5_0Type() : Block32Type(GgmlType.Q5_0, 22, GgmlType.Q8_0)
{
    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, out float d, out float m)
    {
        d = ReadHalf(block, 0);
        m = 0;
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(block[2..]);
        UnpackNibbles(block[6..], qh, 16, levels);
    }

    protected override void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block)
    {
        float max = KQuantMath.SignedMax(values);
        float d = max / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(block, 0, d);
        Span<int> q = stackalloc int[Size];
        for (int i = 0; i < Size; i++) q[i] = Math.Min(31, (int)(values[i] * id + 16.5f));
        BinaryPrimitives.WriteUInt32LittleEndian(block[2..], HighBits(q));
        PackNibbles(q, block[6..]);
    }
}

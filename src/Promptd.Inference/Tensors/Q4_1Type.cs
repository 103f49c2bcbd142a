using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>Q4_1: d (f16), m (f16), 16 bytes of 4-bit levels; value = q·d + m. 20 bytes per 32 values.</summary>
public sealed class Q4_1Type() : Block32Type(GgmlType.Q4_1, 20, GgmlType.Q8_1)
{
    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, out float d, out float m)
    {
        d = ReadHalf(block, 0);
        m = ReadHalf(block, 2);
        UnpackNibbles(block[4..], 0, 0, levels);
    }

    protected override void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block)
    {
        var (min, max) = MinMax(values);
        float d = (max - min) / 15;
        float id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(block, 0, d);
        WriteHalf(block, 2, min);
        Span<int> q = stackalloc int[Size];
        for (int i = 0; i < Size; i++) q[i] = Math.Min(15, (int)((values[i] - min) * id + 0.5f));
        PackNibbles(q, block[4..]);
    }
}

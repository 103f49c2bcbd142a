using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>Q4_0: d (f16), 16 bytes of 4-bit levels; value = (q − 8)·d. 18 bytes per 32 values.</summary>
public sealed class Q4_0Type() : Block32Type(GgmlType.Q4_0, 18, GgmlType.Q8_0)
{
    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, out float d, out float m)
    {
        d = ReadHalf(block, 0);
        m = 0;
        UnpackNibbles(block[2..], 0, 8, levels);
    }

    protected override void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block)
    {
        // The value of largest magnitude maps to level −8 exactly; its sign picks the direction.
        float max = KQuantMath.SignedMax(values);
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(block, 0, d);
        Span<int> q = stackalloc int[Size];
        for (int i = 0; i < Size; i++) q[i] = Math.Min(15, (int)(values[i] * id + 8.5f));
        PackNibbles(q, block[2..]);
    }
}

using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// Q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8 group scales (groups of
/// 16), d (f16); value = d·scale·(q − 32). 210 bytes per 256 values.
/// </summary>
public sealed class Q6_KType() : KQuantType(GgmlType.Q6_K, 210, groupSize: 16)
{
    private const int LowAt = 0, HighAt = 128, ScalesAt = 192, DAt = 208;

    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, Span<int> scales, Span<int> mins,
        out float d, out float dmin)
    {
        d = ReadHalf(block, DAt);
        dmin = 0;
        for (int g = 0; g < 16; g++)
        {
            scales[g] = (sbyte)block[ScalesAt + g];
            mins[g] = 0;
        }
        for (int half = 0; half < 2; half++)
            for (int k = 0; k < 4; k++)
                for (int l = 0; l < 32; l++)
                {
                    // Quarter k of each half: nibble k/2 of low byte l + 32·(k%2), bits 2k of high byte l.
                    int low = (block[LowAt + 64 * half + l + 32 * (k & 1)] >> (4 * (k >> 1))) & 0xF;
                    int high = (block[HighAt + 32 * half + l] >> (2 * k)) & 3;
                    levels[128 * half + 32 * k + l] = (sbyte)((low | (high << 4)) - 32);
                }
    }

    /// <summary>
    /// Where value e's bits are: each 128-value half has 64 low-nibble bytes and 32 high bytes; its
    /// quarter k = r/32 takes nibble k/2 of low byte (r%32 + 32·(k%2)) and bits 2k..2k+1 of high byte r%32.
    /// </summary>
    private static (int LowAt, int LowShift, int HighAt, int HighShift) Position(int e)
    {
        int half = e / 128, r = e % 128, k = r / 32, l = r % 32;
        return (64 * half + l + 32 * (k & 1), 4 * (k >> 1), 32 * half + l, 2 * k);
    }

    protected override void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<sbyte> L = stackalloc sbyte[Size];
        Span<float> scales = stackalloc float[16];
        for (int g = 0; g < 16; g++) scales[g] = KQuantMath.MakeQxQuants(32, x.Slice(16 * g, 16), L.Slice(16 * g, 16));
        float maxScale = KQuantMath.SignedMax(scales);

        block[..BlockBytes].Clear();
        if (MathF.Abs(maxScale) < KQuantMath.GroupMaxEps) return; // all zero: d = 0 and every byte 0

        float iscale = -128f / maxScale;
        WriteHalf(block, DAt, 1 / iscale);
        for (int g = 0; g < 16; g++) block[ScalesAt + g] = (byte)(sbyte)Math.Min(127, KQuantMath.NearestInt(iscale * scales[g]));

        float d = ReadHalf(block, DAt);
        for (int g = 0; g < 16; g++)
        {
            float dl = d * (sbyte)block[ScalesAt + g];
            if (dl == 0) continue;
            for (int ii = 0; ii < 16; ii++)
                L[16 * g + ii] = (sbyte)(Math.Clamp(KQuantMath.NearestInt(x[16 * g + ii] / dl), -32, 31) + 32);
        }

        for (int e = 0; e < Size; e++)
        {
            var (lowAt, lowShift, highAt, highShift) = Position(e);
            block[LowAt + lowAt] |= (byte)((L[e] & 0xF) << lowShift);
            block[HighAt + highAt] |= (byte)(((L[e] >> 4) & 3) << highShift);
        }
    }
}

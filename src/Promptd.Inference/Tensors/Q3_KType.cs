using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// Q3_K: 32 bytes of high bits (bit e/32 of byte e%32), 64 bytes of 2-bit low parts, 12 bytes of
/// 6-bit group scales (biased by 32), d (f16); value = d·(scale − 32)·(q − 4). 110 bytes per 256 values.
/// </summary>
public sealed class Q3_KType() : KQuantType(GgmlType.Q3_K, 110, groupSize: 16)
{
    private const int HighBitsAt = 0, QuantsAt = 32, ScalesAt = 96, DAt = 108;

    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, Span<int> scales, Span<int> mins,
        out float d, out float dmin)
    {
        d = ReadHalf(block, DAt);
        dmin = 0;
        var sc = block.Slice(ScalesAt, 12);
        for (int g = 0; g < 16; g++)
        {
            scales[g] = Scale(sc, g) - 32;
            mins[g] = 0;
        }
        UnpackTwoBitLevels(block.Slice(QuantsAt, 64), levels);
        // Level e is (low bits) − 4, unless bit e/32 of high-bit byte e%32 is set.
        var hmask = block.Slice(HighBitsAt, 32);
        for (int bit = 0; bit < 8; bit++)
            for (int l = 0; l < 32; l++)
                if (((hmask[l] >> bit) & 1) == 0) levels[32 * bit + l] -= 4;
    }

    /// <summary>Group j's 6-bit scale: low nibble from bytes 0–7, top two bits from bytes 8–11.</summary>
    private static int Scale(ReadOnlySpan<byte> sc, int j)
    {
        int low = j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4;
        int high = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
        return low | (high << 4);
    }

    protected override void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<sbyte> L = stackalloc sbyte[Size];
        Span<float> scales = stackalloc float[16];
        for (int j = 0; j < 16; j++) scales[j] = KQuantMath.MakeQ3Quants(4, x.Slice(16 * j, 16), L.Slice(16 * j, 16));
        float maxScale = KQuantMath.SignedMax(scales);

        var sc = block.Slice(ScalesAt, 12);
        sc.Clear();
        if (maxScale != 0)
        {
            float iscale = -32f / maxScale;
            for (int j = 0; j < 16; j++)
            {
                int l = Math.Clamp((int)(sbyte)KQuantMath.NearestInt(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) sc[j] = (byte)(l & 0xF);
                else sc[j - 8] |= (byte)((l & 0xF) << 4);
                sc[j % 4 + 8] |= (byte)((l >> 4) << (2 * (j / 4)));
            }
            WriteHalf(block, DAt, 1 / iscale);
        }
        else
        {
            WriteHalf(block, DAt, 0f);
        }

        float d = ReadHalf(block, DAt);
        for (int j = 0; j < 16; j++)
        {
            float dl = d * (Scale(sc, j) - 32);
            if (dl == 0) continue;
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (sbyte)(Math.Clamp(KQuantMath.NearestInt(x[16 * j + ii] / dl), -4, 3) + 4);
        }

        // Levels are now in [0, 7]: bit 2 goes to the high-bit mask, bits 0–1 to the 2-bit array.
        var hmask = block.Slice(HighBitsAt, 32);
        hmask.Clear();
        Span<byte> low = stackalloc byte[Size];
        for (int e = 0; e < Size; e++)
        {
            if (L[e] > 3) hmask[e % 32] |= (byte)(1 << (e / 32));
            low[e] = (byte)(L[e] & 3);
        }
        PackTwoBitLevels(low, block.Slice(QuantsAt, 64));
    }
}

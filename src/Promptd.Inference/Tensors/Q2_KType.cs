using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// Q2_K: 16 scale bytes (low nibble scale, high nibble min, per group of 16), 64 bytes of 2-bit
/// levels, d (f16), dmin (f16); value = d·scale·q − dmin·min. 84 bytes per 256 values.
/// </summary>
public sealed class Q2_KType() : KQuantType(GgmlType.Q2_K, 84, groupSize: 16)
{
    private const int ScalesAt = 0, QuantsAt = 16, DAt = 80, DMinAt = 82;

    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, Span<int> scales, Span<int> mins,
        out float d, out float dmin)
    {
        d = ReadHalf(block, DAt);
        dmin = ReadHalf(block, DMinAt);
        for (int g = 0; g < 16; g++)
        {
            scales[g] = block[ScalesAt + g] & 0xF;
            mins[g] = block[ScalesAt + g] >> 4;
        }
        UnpackTwoBitLevels(block.Slice(QuantsAt, 64), levels);
    }

    protected override void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> block)
    {
        const float q4scale = 15f;
        Span<byte> L = stackalloc byte[Size];
        Span<byte> laux = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 16; j++)
        {
            var group = x.Slice(16 * j, 16);
            for (int l = 0; l < 16; l++) weights[l] = MathF.Abs(group[l]);
            scales[j] = KQuantMath.MakeQkx2Quants(3, group, weights, L.Slice(16 * j, 16), out mins[j], laux, -0.5f, 0.1f, 15, useMad: true);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }

        var sc = block.Slice(ScalesAt, 16);
        sc.Clear();
        if (maxScale > 0)
        {
            float iscale = q4scale / maxScale;
            for (int j = 0; j < 16; j++) sc[j] = (byte)KQuantMath.NearestInt(iscale * scales[j]);
            WriteHalf(block, DAt, maxScale / q4scale);
        }
        else
        {
            WriteHalf(block, DAt, 0f);
        }
        if (maxMin > 0)
        {
            float iscale = q4scale / maxMin;
            for (int j = 0; j < 16; j++) sc[j] |= (byte)(KQuantMath.NearestInt(iscale * mins[j]) << 4);
            WriteHalf(block, DMinAt, maxMin / q4scale);
        }
        else
        {
            WriteHalf(block, DMinAt, 0f);
        }

        float d = ReadHalf(block, DAt), dmin = ReadHalf(block, DMinAt);
        for (int j = 0; j < 16; j++)
        {
            float dl = d * (sc[j] & 0xF);
            if (dl == 0) continue;
            float dm = dmin * (sc[j] >> 4);
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (byte)Math.Clamp(KQuantMath.NearestInt((x[16 * j + ii] + dm) / dl), 0, 3);
        }
        PackTwoBitLevels(L, block.Slice(QuantsAt, 64));
    }
}

using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// Q5_K: d (f16), dmin (f16), 12 bytes of 6-bit scale/min pairs (groups of 32), 32 bytes of fifth
/// bits (bit e/32 of byte e%32), 128 bytes of low nibbles; value = d·scale·q − dmin·min.
/// 176 bytes per 256 values.
/// </summary>
public sealed class Q5_KType() : KQuantType(GgmlType.Q5_K, 176, groupSize: 32)
{
    private const int HighBitsAt = 16, QuantsAt = 48;

    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, Span<int> scales, Span<int> mins,
        out float d, out float dmin)
    {
        DecodeScaleMinHeader(block, scales, mins, out d, out dmin);
        UnpackNibbleLevels(block.Slice(QuantsAt, 128), levels);
        // The fifth bit of level e is bit e/32 of byte e%32.
        var qh = block.Slice(HighBitsAt, 32);
        for (int bit = 0; bit < 8; bit++)
            for (int l = 0; l < 32; l++)
                levels[32 * bit + l] |= (sbyte)(((qh[l] >> bit) & 1) << 4);
    }

    protected override void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<byte> L = stackalloc byte[Size];
        QuantizeScaleMinGroups(x, block, L, nmax: 31, rmin: -0.5f, rdelta: 0.1f, nstep: 15);
        var qh = block.Slice(HighBitsAt, 32);
        qh.Clear();
        for (int e = 0; e < Size; e++)
            if (L[e] > 15) qh[e % 32] |= (byte)(1 << (e / 32));
        PackNibbleLevels(L, block.Slice(QuantsAt, 128));
    }
}

using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// Q4_K: d (f16), dmin (f16), 12 bytes of 6-bit scale/min pairs (groups of 32), 128 bytes of 4-bit
/// levels; value = d·scale·q − dmin·min. 144 bytes per 256 values.
/// </summary>
public sealed class Q4_KType() : KQuantType(GgmlType.Q4_K, 144, groupSize: 32)
{
    private const int QuantsAt = 16;

    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, Span<int> scales, Span<int> mins,
        out float d, out float dmin)
    {
        DecodeScaleMinHeader(block, scales, mins, out d, out dmin);
        UnpackNibbleLevels(block.Slice(QuantsAt, 128), levels);
    }

    protected override void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<byte> L = stackalloc byte[Size];
        QuantizeScaleMinGroups(x, block, L, nmax: 15, rmin: -1f, rdelta: 0.1f, nstep: 20);
        PackNibbleLevels(L, block.Slice(QuantsAt, 128));
    }
}

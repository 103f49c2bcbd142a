using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// The 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1). Each block decodes to 32 small
/// integer levels, a scale d and an offset m: value = level·d + m. Symmetric formats (m = 0) pair
/// with Q8_0 activations; offset formats pair with Q8_1, whose stored sum s = d·Σq carries the offset
/// term: Σ w·a = d_w·d_a·Σ q_w·q_a + m_w·s_a.
/// </summary>
public abstract class Block32Type : TensorType
{
    public const int Size = 32;

    protected Block32Type(GgmlType id, int blockBytes, GgmlType? activationType)
        : base(id, Size, blockBytes, activationType)
    {
    }

    /// <summary>True for the formats with a per-block offset (Q4_1, Q5_1).</summary>
    protected bool HasOffset => ActivationTypeId == GgmlType.Q8_1;

    /// <summary>Reads a block's integer levels, scale and offset (0 for symmetric formats).</summary>
    protected abstract void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, out float d, out float m);

    protected override void DequantizeBlock(ReadOnlySpan<byte> block, Span<float> values)
    {
        Span<sbyte> q = stackalloc sbyte[Size];
        Decode(block, q, out float d, out float m);
        if (HasOffset)
            for (int i = 0; i < Size; i++) values[i] = q[i] * d + m;
        else
            for (int i = 0; i < Size; i++) values[i] = q[i] * d;
    }

    protected override float DotRow(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int blocks)
    {
        // Q8_0 activation block: d (f16), 32 × int8. Q8_1: d (f16), s (f16), 32 × int8.
        int activationBytes = HasOffset ? Q8_1Type.BlockLength : Q8_0Type.BlockLength;
        int quantsAt = HasOffset ? 4 : 2;
        Span<sbyte> q = stackalloc sbyte[Size];
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            Decode(weights.Slice(b * BlockBytes, BlockBytes), q, out float d, out float m);
            var a = activations.Slice(b * activationBytes, activationBytes);
            int isum = 0;
            for (int i = 0; i < Size; i++) isum += q[i] * (sbyte)a[quantsAt + i];
            // One rounding for the product and the sum (a fused multiply-add), as the SIMD kernels do it.
            sum = MathF.FusedMultiplyAdd(d * ReadHalf(a, 0), isum, sum);
            if (HasOffset) sum += m * ReadHalf(a, 2);
        }
        return sum;
    }

    protected static (float Min, float Max) MinMax(ReadOnlySpan<float> values)
    {
        float min = float.MaxValue, max = float.MinValue;
        foreach (float v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }

    /// <summary>Packs 32 4-bit levels: byte j holds level j (low nibble) and level j + 16 (high nibble).</summary>
    protected static void PackNibbles(ReadOnlySpan<int> levels, Span<byte> qs)
    {
        for (int j = 0; j < Size / 2; j++) qs[j] = (byte)((levels[j] & 0x0F) | ((levels[j + Size / 2] & 0x0F) << 4));
    }

    /// <summary>The fifth bit of each of 32 levels, bit i for level i (little-endian uint32).</summary>
    protected static uint HighBits(ReadOnlySpan<int> levels)
    {
        uint qh = 0;
        for (int i = 0; i < Size; i++) qh |= (uint)((levels[i] >> 4) & 1) << i;
        return qh;
    }

    /// <summary>
    /// The 32 levels of a nibble-packed block (see <see cref="PackNibbles"/>), each with its fifth
    /// bit from <paramref name="qh"/> (bit i for level i) and minus <paramref name="offset"/>.
    /// </summary>
    protected static void UnpackNibbles(ReadOnlySpan<byte> qs, uint qh, int offset, Span<sbyte> levels)
    {
        for (int j = 0; j < Size / 2; j++)
        {
            levels[j] = (sbyte)(((qs[j] & 0x0F) | (int)((qh >> j) & 1) << 4) - offset);
            levels[j + Size / 2] = (sbyte)(((qs[j] >> 4) | (int)((qh >> (j + Size / 2)) & 1) << 4) - offset);
        }
    }
}

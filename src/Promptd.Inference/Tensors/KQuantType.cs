using System.Buffers.Binary;
using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// The K-quant formats: 256-value super-blocks split into groups of 16 or 32 values, each group with
/// its own small integer scale (and min, for the asymmetric formats). A block decodes to integer
/// levels, group scales and mins, and two float factors: value = (d·scale_g)·level − dmin·min_g.
/// Dot products pair them with Q8_K activations, whose group sums (bsums) carry the min term.
/// </summary>
public abstract class KQuantType : TensorType
{
    public const int Size = 256;

    protected KQuantType(GgmlType id, int blockBytes, int groupSize, GgmlType? activationType = GgmlType.Q8_K)
        : base(id, Size, blockBytes, activationType)
    {
        GroupSize = groupSize;
    }

    /// <summary>Values per group sharing a scale (16 or 32).</summary>
    protected int GroupSize { get; }

    protected int Groups => Size / GroupSize;

    /// <summary>Reads a block into levels (256), group scales and mins (Groups each; mins 0 for symmetric formats).</summary>
    protected abstract void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, Span<int> scales, Span<int> mins,
        out float d, out float dmin);

    protected override void DequantizeBlock(ReadOnlySpan<byte> block, Span<float> values)
    {
        Span<sbyte> q = stackalloc sbyte[Size];
        Span<int> scales = stackalloc int[Groups];
        Span<int> mins = stackalloc int[Groups];
        Decode(block, q, scales, mins, out float d, out float dmin);
        for (int g = 0; g < Groups; g++)
        {
            float dl = d * scales[g];
            float ml = dmin * mins[g];
            for (int e = g * GroupSize; e < (g + 1) * GroupSize; e++) values[e] = dl * q[e] - ml;
        }
    }

    protected override float DotRow(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int blocks)
    {
        Span<sbyte> q = stackalloc sbyte[Size];
        Span<int> scales = stackalloc int[Groups];
        Span<int> mins = stackalloc int[Groups];
        int sumsPerGroup = GroupSize / Q8_KType.SumGroup;
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            Decode(weights.Slice(b * BlockBytes, BlockBytes), q, scales, mins, out float d, out float dmin);
            var a = activations.Slice(b * Q8_KType.BlockLength, Q8_KType.BlockLength);
            float ad = BinaryPrimitives.ReadSingleLittleEndian(a);
            int isum = 0, summs = 0;
            for (int g = 0; g < Groups; g++)
            {
                int groupSum = 0;
                for (int e = g * GroupSize; e < (g + 1) * GroupSize; e++) groupSum += q[e] * (sbyte)a[Q8_KType.QuantsAt + e];
                isum += scales[g] * groupSum;
                for (int s = 0; s < sumsPerGroup; s++) summs += mins[g] * Q8_KType.GroupSum(a, g * sumsPerGroup + s);
            }
            sum += ad * d * isum - ad * dmin * summs;
        }
        return sum;
    }

    /// <summary>
    /// The 6-bit scale/min pairs of Q4_K and Q5_K in their 12 bytes (ggml's get_scale_min_k4): pairs
    /// 0–3 sit in the low 6 bits of bytes 0–7; pairs 4–7 in the nibbles of bytes 8–11 with their top
    /// two bits in the high bits of bytes 0–7.
    /// </summary>
    protected static (int Scale, int Min) ScaleMinK4(ReadOnlySpan<byte> q, int j) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    /// <summary>The header of Q4_K and Q5_K blocks: d, dmin (f16) and 8 scale/min pairs in 12 bytes.</summary>
    protected static void DecodeScaleMinHeader(ReadOnlySpan<byte> block, Span<int> scales, Span<int> mins, out float d, out float dmin)
    {
        d = ReadHalf(block, 0);
        dmin = ReadHalf(block, 2);
        for (int g = 0; g < 8; g++) (scales[g], mins[g]) = ScaleMinK4(block[4..], g);
    }

    /// <summary>Inverse of <see cref="ScaleMinK4"/> for 8 pairs of 6-bit values.</summary>
    protected static void PackScaleMinK4(ReadOnlySpan<int> scales, ReadOnlySpan<int> mins, Span<byte> q)
    {
        q[..12].Clear();
        for (int j = 0; j < 8; j++)
        {
            int ls = scales[j], lm = mins[j];
            if (j < 4)
            {
                q[j] = (byte)ls;
                q[j + 4] = (byte)lm;
            }
            else
            {
                q[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                q[j - 4] |= (byte)((ls >> 4) << 6);
                q[j] |= (byte)((lm >> 4) << 6);
            }
        }
    }

    /// <summary>
    /// The 2-bit low parts of the 256 levels in Q2_K/Q3_K layout: each 128-value half uses 32 bytes,
    /// and value 32·j + l of the half sits in byte l at bits 2j, 2j+1.
    /// </summary>
    protected static void UnpackTwoBitLevels(ReadOnlySpan<byte> qs, Span<sbyte> levels)
    {
        for (int half = 0; half < 2; half++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++)
                    levels[128 * half + 32 * j + l] = (sbyte)((qs[32 * half + l] >> (2 * j)) & 3);
    }

    /// <summary>Inverse of <see cref="UnpackTwoBitLevels"/> for 256 levels in [0, 3].</summary>
    protected static void PackTwoBitLevels(ReadOnlySpan<byte> L, Span<byte> qs)
    {
        for (int j = 0; j < Size; j += 128)
            for (int l = 0; l < 32; l++)
                qs[j / 4 + l] = (byte)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }

    /// <summary>The 4-bit low parts of the 256 levels in Q4_K/Q5_K layout: 64-value chunks of 32 bytes, low nibbles first.</summary>
    protected static void UnpackNibbleLevels(ReadOnlySpan<byte> qs, Span<sbyte> levels)
    {
        for (int chunk = 0; chunk < 4; chunk++)
            for (int l = 0; l < 32; l++)
            {
                byte b = qs[32 * chunk + l];
                levels[64 * chunk + l] = (sbyte)(b & 0xF);
                levels[64 * chunk + 32 + l] = (sbyte)(b >> 4);
            }
    }

    /// <summary>Inverse of <see cref="UnpackNibbleLevels"/> for 256 levels (only their low 4 bits are kept).</summary>
    protected static void PackNibbleLevels(ReadOnlySpan<byte> L, Span<byte> qs)
    {
        for (int j = 0; j < Size; j += 64)
            for (int l = 0; l < 32; l++)
                qs[j / 2 + l] = (byte)((L[j + l] & 0xF) | ((L[j + l + 32] & 0xF) << 4));
    }

    /// <summary>
    /// Quantizes each group of a Q4_K/Q5_K super-block with an asymmetric scale and min
    /// (make_qkx2_quants with weights |x| + rms), packs scales and mins to 6 bits against two
    /// super-block factors, then requantizes every value with the rounded group scale and min.
    /// Writes d, dmin and the 12 scale bytes at the start of <paramref name="block"/>.
    /// </summary>
    protected static void QuantizeScaleMinGroups(ReadOnlySpan<float> x, Span<byte> block, Span<byte> L, int nmax,
        float rmin, float rdelta, int nstep)
    {
        const int groupSize = 32, groups = Size / groupSize;
        Span<float> weights = stackalloc float[groupSize];
        Span<byte> laux = stackalloc byte[groupSize];
        Span<float> scales = stackalloc float[groups];
        Span<float> mins = stackalloc float[groups];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < groups; j++)
        {
            var group = x.Slice(groupSize * j, groupSize);
            float sumX2 = 0;
            for (int l = 0; l < groupSize; l++) sumX2 += group[l] * group[l];
            float avX = MathF.Sqrt(sumX2 / groupSize);
            for (int l = 0; l < groupSize; l++) weights[l] = avX + MathF.Abs(group[l]);
            scales[j] = KQuantMath.MakeQkx2Quants(nmax, group, weights, L.Slice(groupSize * j, groupSize), out mins[j], laux,
                rmin, rdelta, nstep, useMad: false);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }

        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        Span<int> ls = stackalloc int[groups];
        Span<int> lm = stackalloc int[groups];
        for (int j = 0; j < groups; j++)
        {
            ls[j] = Math.Min(63, (int)(byte)KQuantMath.NearestInt(invScale * scales[j]));
            lm[j] = Math.Min(63, (int)(byte)KQuantMath.NearestInt(invMin * mins[j]));
        }
        PackScaleMinK4(ls, lm, block[4..]);
        WriteHalf(block, 0, maxScale / 63f);
        WriteHalf(block, 2, maxMin / 63f);

        float d = ReadHalf(block, 0), dmin = ReadHalf(block, 2);
        for (int j = 0; j < groups; j++)
        {
            var (sc, m) = ScaleMinK4(block[4..], j);
            float dl = d * sc;
            if (dl == 0) continue;
            float dm = dmin * m;
            for (int ii = 0; ii < groupSize; ii++)
                L[groupSize * j + ii] = (byte)Math.Clamp(KQuantMath.NearestInt((x[groupSize * j + ii] + dm) / dl), 0, nmax);
        }
    }
}

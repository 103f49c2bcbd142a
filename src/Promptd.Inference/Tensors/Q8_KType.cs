using System.Buffers.Binary;
using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// Q8_K: d (f32), 256 × int8, 16 × int16 sums of each group of 16 levels; value = d·q. 292 bytes
/// per 256 values. The activation format of every K-quant; the sums serve their min terms.
/// </summary>
public sealed class Q8_KType() : KQuantType(GgmlType.Q8_K, BlockLength, groupSize: 256, activationType: null)
{
    public const int BlockLength = 292;
    public const int QuantsAt = 4;
    public const int SumsAt = 260;
    public const int SumGroup = 16;

    /// <summary>Sum of levels 16·i … 16·i + 15 of an activation block.</summary>
    public static int GroupSum(ReadOnlySpan<byte> block, int i) => BinaryPrimitives.ReadInt16LittleEndian(block[(SumsAt + 2 * i)..]);

    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, Span<int> scales, Span<int> mins,
        out float d, out float dmin)
    {
        d = BinaryPrimitives.ReadSingleLittleEndian(block);
        dmin = 0;
        scales[0] = 1;
        mins[0] = 0;
        for (int e = 0; e < Size; e++) levels[e] = (sbyte)block[QuantsAt + e];
    }

    protected override void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> block)
    {
        float max = KQuantMath.SignedMax(x);
        block[..BlockLength].Clear();
        if (max == 0) return; // d = 0, levels and sums 0

        // ggml uses −127 (not −128) so that every level fits the AVX sign tricks.
        float iscale = -127f / max;
        for (int e = 0; e < Size; e++) block[QuantsAt + e] = (byte)(sbyte)Math.Min(127, KQuantMath.NearestInt(iscale * x[e]));
        for (int i = 0; i < Size / SumGroup; i++)
        {
            int sum = 0;
            for (int e = SumGroup * i; e < SumGroup * (i + 1); e++) sum += (sbyte)block[QuantsAt + e];
            BinaryPrimitives.WriteInt16LittleEndian(block[(SumsAt + 2 * i)..], (short)sum);
        }
        BinaryPrimitives.WriteSingleLittleEndian(block, 1 / iscale);
    }
}

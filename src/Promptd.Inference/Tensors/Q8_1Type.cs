using System.Buffers.Binary;
using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>
/// Q8_1: d (f16), s = d·Σq (f16), 32 × int8. 36 bytes per 32 values. The activation format of
/// Q4_1 and Q5_1 weights: s lets their offset term be added once per block.
/// </summary>
public sealed class Q8_1Type() : Block32Type(GgmlType.Q8_1, BlockLength, null)
{
    public const int BlockLength = 36;

    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, out float d, out float m)
    {
        d = ReadHalf(block, 0);
        m = 0;
        for (int i = 0; i < Size; i++) levels[i] = (sbyte)block[4 + i];
    }

    /// <summary>ggml's reference: id = 1/d, rounding half away from zero.</summary>
    protected override void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block)
    {
        float d = Q8_0Type.AbsMax(values) / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        Write(values, block, d, id, MidpointRounding.AwayFromZero);
    }

    /// <summary>ggml-cpu's x86 activation quantizer: id = 127/amax, rounding half to even.</summary>
    protected override void QuantizeActivationBlock(ReadOnlySpan<float> values, Span<byte> block)
    {
        float amax = Q8_0Type.AbsMax(values);
        Write(values, block, amax / 127f, amax != 0 ? 127f / amax : 0.0f, MidpointRounding.ToEven);
    }

    private static void Write(ReadOnlySpan<float> values, Span<byte> block, float d, float id, MidpointRounding rounding)
    {
        int sum = 0;
        for (int i = 0; i < Size; i++)
        {
            sbyte q = (sbyte)MathF.Round(values[i] * id, rounding);
            block[4 + i] = (byte)q;
            sum += q;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(block, HalfFloat.FloatToF16(d));
        BinaryPrimitives.WriteUInt16LittleEndian(block[2..], HalfFloat.FloatToF16(sum * d));
    }
}

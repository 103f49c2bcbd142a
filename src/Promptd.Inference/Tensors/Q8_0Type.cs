using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tensors;

/// <summary>Q8_0: d (f16), 32 × int8; value = q·d. 34 bytes per 32 values. Weight and activation format.</summary>
public sealed class Q8_0Type() : Block32Type(GgmlType.Q8_0, BlockLength, GgmlType.Q8_0)
{
    public const int BlockLength = 34;

    protected override void Decode(ReadOnlySpan<byte> block, Span<sbyte> levels, out float d, out float m)
    {
        d = ReadHalf(block, 0);
        m = 0;
        for (int i = 0; i < Size; i++) levels[i] = (sbyte)block[2 + i];
    }

    /// <summary>ggml's reference: id = 1/d, rounding half away from zero.</summary>
    protected override void QuantizeBlock(ReadOnlySpan<float> values, Span<byte> block)
    {
        float amax = AbsMax(values);
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        WriteHalf(block, 0, d);
        for (int i = 0; i < Size; i++) block[2 + i] = (byte)(sbyte)MathF.Round(values[i] * id, MidpointRounding.AwayFromZero);
    }

    /// <summary>ggml-cpu's x86 activation quantizer: id = 127/amax, rounding half to even.</summary>
    protected override void QuantizeActivationBlock(ReadOnlySpan<float> values, Span<byte> block)
    {
        float amax = AbsMax(values);
        WriteHalf(block, 0, amax / 127f);
        float id = amax != 0 ? 127f / amax : 0.0f;
        for (int i = 0; i < Size; i++) block[2 + i] = (byte)(sbyte)MathF.Round(values[i] * id);
    }

    internal static float AbsMax(ReadOnlySpan<float> values)
    {
        float amax = 0;
        foreach (float v in values) amax = MathF.Max(amax, MathF.Abs(v));
        return amax;
    }
}

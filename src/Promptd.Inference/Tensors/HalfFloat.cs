namespace Promptd.Inference.Tensors;

/// <summary>
/// IEEE half (F16) and bfloat16 (BF16) conversions with ggml's rounding: round to nearest, ties to
/// even, as the F16C instructions and ggml's BF16 converter do.
/// </summary>
public static class HalfFloat
{
    // Every F16 value as a float, as ggml keeps it (ggml_table_f32_f16): a lookup beats converting.
    private static readonly float[] F16Table = BuildF16Table();

    public static float F16ToFloat(ushort bits) => F16Table[bits];

    private static float[] BuildF16Table()
    {
        var table = new float[65536];
        for (int i = 0; i < table.Length; i++) table[i] = (float)BitConverter.UInt16BitsToHalf((ushort)i);
        return table;
    }

    public static ushort FloatToF16(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>Rounds a float through F16 and back, as ggml does when it stores F16 values.</summary>
    public static float RoundToF16(float value) => (float)(Half)value;

    public static float BF16ToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static ushort FloatToBF16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        // A NaN keeps its sign and top payload bits and is forced quiet, so it cannot round to infinity.
        if ((u & 0x7fffffff) > 0x7f800000) return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }
}

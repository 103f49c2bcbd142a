using Promptd.Inference.Tensors;

namespace Promptd.Inference.Tests.Tensors;

public class HalfFloatTests
{
    [Theory]
    [InlineData(1.0f, 0x3C00)]
    [InlineData(-2.0f, 0xC000)]
    [InlineData(65504f, 0x7BFF)]           // largest finite half
    [InlineData(65519.996f, 0x7BFF)]       // just below the rounding midpoint to infinity
    [InlineData(65520f, 0x7C00)]           // the midpoint rounds (to even) to infinity
    [InlineData(5.9604645e-8f, 0x0001)]    // 2^-24, smallest subnormal
    [InlineData(2.9802322e-8f, 0x0000)]    // 2^-25 is a tie: to even, zero
    [InlineData(8.940697e-8f, 0x0002)]     // 3·2^-25 is a tie: to even, two
    [InlineData(1.00048828125f, 0x3C00)]   // 1 + 2^-11 is a tie: to even
    [InlineData(1.00146484375f, 0x3C02)]   // 1 + 3·2^-11 is a tie: to even
    [InlineData(-0.0f, 0x8000)]
    public void Float_to_F16_rounds_to_nearest_even(float value, int bits) =>
        Assert.Equal((ushort)bits, HalfFloat.FloatToF16(value));

    [Fact]
    public void Every_F16_value_survives_a_round_trip_through_float()
    {
        for (int h = 0; h < 65536; h++)
        {
            float f = HalfFloat.F16ToFloat((ushort)h);
            if (float.IsNaN(f)) Assert.True(float.IsNaN(HalfFloat.F16ToFloat(HalfFloat.FloatToF16(f))));
            else Assert.Equal((ushort)h, HalfFloat.FloatToF16(f));
        }
    }

    [Theory]
    [InlineData(0x3F800000u, 0x3F80)]      // 1.0
    [InlineData(0x3F808000u, 0x3F80)]      // tie, even stays
    [InlineData(0x3F818000u, 0x3F82)]      // tie, odd rounds up to even
    [InlineData(0x3F80C000u, 0x3F81)]      // above the midpoint
    [InlineData(0x7F7FFFFFu, 0x7F80)]      // the largest float rounds to infinity, as in ggml
    [InlineData(0x7F800000u, 0x7F80)]      // infinity
    [InlineData(0x7F800001u, 0x7FC0)]      // a signalling NaN stays a NaN, made quiet
    [InlineData(0xFFC00000u, 0xFFC0)]      // negative quiet NaN
    public void Float_to_BF16_rounds_to_nearest_even_and_keeps_NaN(uint floatBits, int bits) =>
        Assert.Equal((ushort)bits, HalfFloat.FloatToBF16(BitConverter.UInt32BitsToSingle(floatBits)));

    [Fact]
    public void BF16_is_the_top_half_of_a_float()
    {
        Assert.Equal(1.0f, HalfFloat.BF16ToFloat(0x3F80));
        Assert.Equal(-3.0f, HalfFloat.BF16ToFloat(0xC040));
        Assert.Equal(BitConverter.UInt32BitsToSingle(0x12340000), HalfFloat.BF16ToFloat(0x1234));
    }
}

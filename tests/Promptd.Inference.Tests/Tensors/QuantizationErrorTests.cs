using Promptd.Inference.Gguf;
using Promptd.Inference.Tensors;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Tensors;

public class QuantizationErrorTests
{
    /// <summary>
    /// Quantize → dequantize of N(0, 1) data: the RMS error must lie within the band a format of its
    /// bit width gives (about 0.085 for 4.5 bits, 0.0053 for 8.5 bits), and no value may be off by
    /// more than a few quantization steps.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.F32, 0.0, 0.0, 0.0)]
    [InlineData(GgmlType.F16, 1e-4, 2.5e-4, 0.002)]
    [InlineData(GgmlType.BF16, 8e-4, 2e-3, 0.016)]
    [InlineData(GgmlType.Q8_0, 0.0026, 0.0061, 0.025)]
    [InlineData(GgmlType.Q8_1, 0.0026, 0.0061, 0.025)]
    [InlineData(GgmlType.Q8_K, 0.0034, 0.0078, 0.025)]
    [InlineData(GgmlType.Q6_K, 0.0087, 0.020, 0.08)]
    [InlineData(GgmlType.Q5_1, 0.018, 0.042, 0.15)]
    [InlineData(GgmlType.Q5_0, 0.021, 0.048, 0.18)]
    [InlineData(GgmlType.Q5_K, 0.017, 0.040, 0.18)]
    [InlineData(GgmlType.Q4_1, 0.038, 0.087, 0.3)]
    [InlineData(GgmlType.Q4_0, 0.042, 0.097, 0.35)]
    [InlineData(GgmlType.Q4_K, 0.035, 0.080, 0.3)]
    [InlineData(GgmlType.Q3_K, 0.074, 0.17, 0.7)]
    [InlineData(GgmlType.Q2_K, 0.14, 0.33, 1.3)]
    public void Round_trip_error_is_that_of_the_formats_bit_width(GgmlType id, double minRmse, double maxRmse, double maxError)
    {
        var type = TensorTypes.Get(id);
        var x = Gaussian.Samples(16384, seed: 11);
        var packed = new byte[type.RowBytes(x.Length)];
        var y = new float[x.Length];
        type.QuantizeRow(x, packed);
        type.DequantizeRow(packed, y);

        double squares = 0, worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double e = Math.Abs(x[i] - y[i]);
            squares += e * e;
            worst = Math.Max(worst, e);
        }
        double rmse = Math.Sqrt(squares / x.Length);
        Assert.InRange(rmse, minRmse, maxRmse);
        Assert.True(worst <= maxError, $"{id}: worst error {worst:F4}");
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Zero_and_constant_rows_stay_finite(GgmlType id)
    {
        var type = TensorTypes.Get(id);
        int n = 512;
        foreach (float value in new[] { 0f, 0.5f, -3f })
        {
            var x = Enumerable.Repeat(value, n).ToArray();
            var packed = new byte[type.RowBytes(n)];
            var y = new float[n];
            type.QuantizeRow(x, packed);
            type.DequantizeRow(packed, y);
            Assert.All(y, v => Assert.True(float.IsFinite(v)));
            if (value == 0f) Assert.All(y, v => Assert.Equal(0f, v));
            else Assert.All(y, v => Assert.True(Math.Abs(v - value) <= 0.35 * Math.Abs(value), $"{id}: {value} came back as {v}"));
        }
    }

    public static TheoryData<GgmlType> AllTypes => [.. TensorTypes.All.Select(t => t.Id)];

    [Fact]
    public void Q8_K_stores_the_sum_of_each_group_of_16_levels()
    {
        var x = Gaussian.Samples(256, seed: 3);
        var block = new byte[Q8_KType.BlockLength];
        TensorTypes.Q8_K.QuantizeRow(x, block);
        for (int g = 0; g < 16; g++)
        {
            int sum = 0;
            for (int e = 16 * g; e < 16 * (g + 1); e++) sum += (sbyte)block[Q8_KType.QuantsAt + e];
            Assert.Equal(sum, Q8_KType.GroupSum(block, g));
        }
    }

    [Fact]
    public void Q8_1_stores_d_times_the_sum_of_its_levels()
    {
        var x = Gaussian.Samples(32, seed: 4);
        var block = new byte[Q8_1Type.BlockLength];
        TensorTypes.Q8_1.QuantizeActivationRow(x, block);
        float d = x.Max(Math.Abs) / 127f; // the unrounded scale, as ggml multiplies it
        int sum = 0;
        for (int i = 0; i < 32; i++) sum += (sbyte)block[4 + i];
        Assert.Equal(HalfFloat.FloatToF16(d), BitConverter.ToUInt16(block, 0));
        Assert.Equal(HalfFloat.FloatToF16(sum * d), BitConverter.ToUInt16(block, 2));
    }

    [Fact]
    public void Activation_quantizers_round_like_ggml_cpu_and_the_references_like_ggml_quants()
    {
        // 127/amax·x lands exactly on 0.5 for x = amax/254: ggml-cpu's activation quantizer rounds the
        // tie to even (0), its reference quantizer (roundf) away from zero (1).
        var x = new float[32];
        x[0] = 127f;
        x[1] = 0.5f;
        var activation = new byte[34];
        var reference = new byte[34];
        TensorTypes.Q8_0.QuantizeActivationRow(x, activation);
        TensorTypes.Q8_0.QuantizeRow(x, reference);
        Assert.Equal(127, (sbyte)activation[2]);
        Assert.Equal(0, (sbyte)activation[3]);
        Assert.Equal(1, (sbyte)reference[3]);
    }
}

using Promptd.Inference.Gguf;
using Promptd.Inference.Tensors;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Tensors;

public class DotProductTests
{
    public static TheoryData<GgmlType> WeightTypes => [.. TensorTypes.WeightTypes.Select(t => t.Id)];

    /// <summary>
    /// The integer dot product of a weight row with converted activations equals the float64 dot of
    /// the two dequantized rows — exactly up to float rounding, except for Q8_1's block sum, which
    /// is stored in f16.
    /// </summary>
    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void Dot_equals_the_dot_of_the_dequantized_rows(GgmlType id)
    {
        var type = TensorTypes.Get(id);
        var activationType = type.ActivationType;
        const int n = 1024;
        for (int trial = 0; trial < 20; trial++)
        {
            var w = Gaussian.Samples(n, seed: 100 + trial, sigma: 0.05f);
            var x = Gaussian.Samples(n, seed: 200 + trial);
            var packedW = new byte[type.RowBytes(n)];
            var packedX = new byte[activationType.RowBytes(n)];
            type.QuantizeRow(w, packedW);
            activationType.QuantizeActivationRow(x, packedX);

            var dw = new float[n];
            var dx = new float[n];
            type.DequantizeRow(packedW, dw);
            activationType.DequantizeRow(packedX, dx);
            double expected = 0, scale = 0;
            for (int i = 0; i < n; i++)
            {
                expected += (double)dw[i] * dx[i];
                scale += Math.Abs((double)dw[i] * dx[i]);
            }

            float actual = type.Dot(packedW, packedX, n);
            double tolerance = (activationType.Id == GgmlType.Q8_1 ? 2e-3 : 2e-6) * scale;
            Assert.True(Math.Abs(actual - expected) <= tolerance, $"{id}: {actual} against {expected} (tolerance {tolerance:E1})");
        }
    }

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void Dot_approximates_the_float_dot(GgmlType id)
    {
        var type = TensorTypes.Get(id);
        const int n = 2048;
        var w = Gaussian.Samples(n, seed: 1, sigma: 0.05f);
        var x = Gaussian.Samples(n, seed: 2);
        var packedW = new byte[type.RowBytes(n)];
        var packedX = new byte[type.ActivationType.RowBytes(n)];
        type.QuantizeRow(w, packedW);
        type.ActivationType.QuantizeActivationRow(x, packedX);
        double exact = 0;
        for (int i = 0; i < n; i++) exact += (double)w[i] * x[i];
        // The error of a dot of n products of independent errors grows like √n·σw·σx·(relative step).
        double bound = Math.Sqrt(n) * 0.05 * 0.4;
        Assert.True(Math.Abs(type.Dot(packedW, packedX, n) - exact) <= bound);
    }

    [Fact]
    public void Dot_rejects_rows_of_the_wrong_length()
    {
        var type = TensorTypes.Q4_0;
        Assert.Throws<ArgumentException>(() => type.Dot(new byte[18], new byte[33], 32));
        Assert.Throws<ArgumentException>(() => type.Dot(new byte[17], new byte[34], 32));
        Assert.Throws<ArgumentException>(() => type.Dot(new byte[36], new byte[68], 48));
        Assert.Throws<NotSupportedException>(() => TensorTypes.Q8_K.Dot(new byte[292], new byte[292], 256));
    }
}

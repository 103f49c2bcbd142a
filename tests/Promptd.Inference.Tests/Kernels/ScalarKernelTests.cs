using Promptd.Inference.Gguf;
using Promptd.Inference.Kernels;
using Promptd.Inference.Tensors;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Kernels;

public unsafe class ScalarKernelTests
{
    private static readonly IMatrixKernels Kernels = ScalarMatrixKernels.Instance;

    private static byte[] Quantized(TensorType type, float[] values, int columns)
    {
        int rowBytes = type.RowBytes(columns);
        var bytes = new byte[values.Length / columns * rowBytes];
        for (int r = 0; r < values.Length / columns; r++) type.QuantizeRow(values.AsSpan(r * columns, columns), bytes.AsSpan(r * rowBytes, rowBytes));
        return bytes;
    }

    public static TheoryData<GgmlType> WeightTypes => [.. TensorTypes.WeightTypes.Select(t => t.Id)];

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void MatMul_is_a_dot_product_per_row_and_token(GgmlType id)
    {
        var type = TensorTypes.Get(id);
        const int rows = 7, columns = 512, tokens = 3;
        var weights = Quantized(type, Gaussian.Samples(rows * columns, seed: 1, sigma: 0.1f), columns);
        var x = Gaussian.Samples(tokens * columns, seed: 2);
        var y = new float[tokens * rows];
        fixed (byte* p = weights)
        {
            var m = new MatrixView(p, type, rows, columns, type.RowBytes(columns));
            var scratch = new byte[Kernels.ScratchBytes(m, tokens)];
            Kernels.MatMul(m, x, tokens, y, scratch);

            var activation = new byte[type.ActivationType.RowBytes(columns)];
            for (int t = 0; t < tokens; t++)
            {
                type.ActivationType.QuantizeActivationRow(x.AsSpan(t * columns, columns), activation);
                for (int r = 0; r < rows; r++) Assert.Equal(type.Dot(m.Row(r), activation, columns), y[t * rows + r]);

                var single = new float[rows];
                Kernels.MatVec(m, x.AsSpan(t * columns, columns), single, scratch);
                Assert.Equal(y.AsSpan(t * rows, rows).ToArray(), single);
            }
        }
    }

    [Fact]
    public void A_view_can_pick_a_column_band_with_a_row_stride()
    {
        // A 4 × 8 F32 matrix; the view takes columns 4..7 of rows 0..2.
        var values = Enumerable.Range(0, 32).Select(i => (float)i).ToArray();
        var bytes = Quantized(TensorTypes.F32, values, 8);
        fixed (byte* p = bytes)
        {
            var band = new MatrixView(p + 4 * 4, TensorTypes.F32, 3, 4, 8 * 4);
            var y = new float[3];
            Kernels.MatVec(band, [1, 0, 0, 1], y, new byte[16]);
            Assert.Equal([4f + 7f, 12f + 15f, 20f + 23f], y);
            Assert.Equal(2, band.TopRows(2).Rows);
            Assert.Throws<ArgumentOutOfRangeException>(() => band.Row(3));
            Assert.Throws<ArgumentOutOfRangeException>(() => band.TopRows(4));
            byte* start = p;
            Assert.Throws<ArgumentOutOfRangeException>(() => new MatrixView(start, TensorTypes.F32, 3, 8, 16));
        }
    }

    [Fact]
    public void Short_buffers_are_rejected()
    {
        var bytes = new byte[2 * 34];
        fixed (byte* p = bytes)
        {
            var m = new MatrixView(p, TensorTypes.Q8_0, 2, 32, 34);
            Assert.Throws<ArgumentException>(() => Kernels.MatVec(m, new float[31], new float[2], new byte[34]));
            Assert.Throws<ArgumentException>(() => Kernels.MatVec(m, new float[32], new float[1], new byte[34]));
            Assert.Throws<ArgumentException>(() => Kernels.MatVec(m, new float[32], new float[2], new byte[33]));
            Assert.Throws<ArgumentException>(() => Kernels.MatMul(m, new float[64], 2, new float[4], new byte[34]));
        }
    }
}

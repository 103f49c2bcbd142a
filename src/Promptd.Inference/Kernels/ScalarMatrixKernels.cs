namespace Promptd.Inference.Kernels;

/// <summary>
/// The reference kernels: plain loops over <see cref="Tensors.TensorType.Dot"/>, one weight row at a
/// time against every activation row. Slow, obvious, and the baseline SIMD kernels are tested against.
/// </summary>
public sealed class ScalarMatrixKernels : IMatrixKernels
{
    public static ScalarMatrixKernels Instance { get; } = new();

    public string Name => "scalar";

    public void MatVec(in MatrixView matrix, ReadOnlySpan<float> x, Span<float> y, Span<byte> scratch) =>
        MatMul(matrix, x, 1, y, scratch);

    public void MatMul(in MatrixView matrix, ReadOnlySpan<float> x, int count, Span<float> y, Span<byte> scratch)
    {
        int rows = matrix.Rows, columns = matrix.Columns;
        if (x.Length < count * columns) throw new ArgumentException($"{count} activation rows of {columns} need {count * columns} values, got {x.Length}", nameof(x));
        if (y.Length < count * rows) throw new ArgumentException($"{count} output rows of {rows} need {count * rows} values, got {y.Length}", nameof(y));

        var activationType = matrix.Type.ActivationType;
        int activationBytes = activationType.RowBytes(columns);
        if (scratch.Length < count * activationBytes)
            throw new ArgumentException($"scratch of {scratch.Length} bytes is smaller than the {count * activationBytes} the activations need", nameof(scratch));
        for (int t = 0; t < count; t++)
            activationType.QuantizeActivationRow(x.Slice(t * columns, columns), scratch.Slice(t * activationBytes, activationBytes));

        for (int r = 0; r < rows; r++)
        {
            var weights = matrix.Row(r);
            for (int t = 0; t < count; t++)
                y[t * rows + r] = matrix.Type.Dot(weights, scratch.Slice(t * activationBytes, activationBytes), columns);
        }
    }
}

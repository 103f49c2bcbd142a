using Promptd.Inference.Tensors;

namespace Promptd.Inference.Kernels;

/// <summary>
/// The reference kernels: plain loops over <see cref="TensorType.Dot"/>, one weight row at a time
/// against every activation row, with activations in ggml's own bytes. Slow, obvious, and the
/// baseline the SIMD kernels are tested against.
/// </summary>
public sealed class ScalarMatrixKernels : IMatrixKernels
{
    public static ScalarMatrixKernels Instance { get; } = new();

    public string Name => "scalar";
    public KernelPath Path => KernelPath.Scalar;

    public bool Rearranges(TensorType type) => false;

    public MatrixView Prepare(MatrixView weights) => weights;

    public int ActivationBytes(in MatrixView matrix, int count) => checked(count * matrix.Type.ActivationType.RowBytes(matrix.Columns));

    public void ConvertActivations(in MatrixView matrix, ReadOnlySpan<float> x, int count, Span<byte> activations)
    {
        int columns = matrix.Columns;
        var activationType = matrix.Type.ActivationType;
        int rowBytes = activationType.RowBytes(columns);
        if (x.Length < (long)count * columns) throw new ArgumentException($"{count} activation rows of {columns} need {(long)count * columns} values, got {x.Length}", nameof(x));
        if (activations.Length < (long)count * rowBytes)
            throw new ArgumentException($"scratch of {activations.Length} bytes is smaller than the {(long)count * rowBytes} the activations need", nameof(activations));
        for (int t = 0; t < count; t++)
            activationType.QuantizeActivationRow(x.Slice(t * columns, columns), activations.Slice(t * rowBytes, rowBytes));
    }

    public void MatMul(in MatrixView matrix, ReadOnlySpan<byte> activations, int count, Span<float> y, int rowStart, int rowEnd)
    {
        int rows = matrix.Rows, columns = matrix.Columns;
        int rowBytes = matrix.Type.ActivationType.RowBytes(columns);
        if (y.Length < (long)count * rows) throw new ArgumentException($"{count} output rows of {rows} need {(long)count * rows} values, got {y.Length}", nameof(y));
        if (activations.Length < (long)count * rowBytes) throw new ArgumentException($"{count} converted rows need {(long)count * rowBytes} bytes", nameof(activations));
        if (rowStart < 0 || rowEnd > rows || rowStart > rowEnd) throw new ArgumentOutOfRangeException(nameof(rowStart), $"rows {rowStart}..{rowEnd} of a {rows}-row matrix");
        for (int r = rowStart; r < rowEnd; r++)
        {
            var weights = matrix.Row(r);
            for (int t = 0; t < count; t++)
                y[t * rows + r] = matrix.Type.Dot(weights, activations.Slice(t * rowBytes, rowBytes), columns);
        }
    }

    /// <summary>Softmax of scale·x in place, as ggml's soft_max: exponentials summed in double.</summary>
    public void Softmax(Span<float> x, float scale)
    {
        float max = float.NegativeInfinity;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] *= scale;
            max = MathF.Max(max, x[i]);
        }
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }
        float inverse = (float)(1.0 / sum);
        for (int i = 0; i < x.Length; i++) x[i] *= inverse;
    }
}

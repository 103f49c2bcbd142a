namespace Promptd.Inference.Kernels;

/// <summary>
/// The matrix products of the forward pass, for a matrix that stays in its stored type. Before the
/// dot products, activations are converted to the matrix type's activation format
/// (<see cref="Tensors.TensorType.ActivationType"/>: Q8_0, Q8_1, Q8_K, F16, BF16 or F32), as ggml
/// does, into <c>scratch</c>. <see cref="ScalarMatrixKernels"/> is the reference every faster
/// implementation must agree with.
/// </summary>
public interface IMatrixKernels
{
    string Name { get; }

    /// <summary>Bytes of scratch that <paramref name="count"/> activation rows for <paramref name="matrix"/> need.</summary>
    int ScratchBytes(in MatrixView matrix, int count) => checked(count * matrix.Type.ActivationType.RowBytes(matrix.Columns));

    /// <summary>y[r] = Σc M[r, c]·x[c]: x has Columns values, y has Rows.</summary>
    void MatVec(in MatrixView matrix, ReadOnlySpan<float> x, Span<float> y, Span<byte> scratch);

    /// <summary>
    /// Y[t, r] = Σc M[r, c]·X[t, c] for t &lt; <paramref name="count"/>: x is count × Columns and y is
    /// count × Rows, both row-major.
    /// </summary>
    void MatMul(in MatrixView matrix, ReadOnlySpan<float> x, int count, Span<float> y, Span<byte> scratch);
}

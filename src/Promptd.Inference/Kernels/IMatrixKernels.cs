using Promptd.Inference.Tensors;

namespace Promptd.Inference.Kernels;

/// <summary>
/// The matrix products of the forward pass, for a matrix that stays in its stored type. Before the
/// dot products, activations are converted to the matrix type's activation format
/// (<see cref="TensorType.ActivationType"/>: Q8_0, Q8_1, Q8_K, F16, BF16 or F32) as ggml does;
/// how the converted rows are laid out is each implementation's own business, so a caller only
/// passes them from <see cref="ConvertActivations"/> to <see cref="MatMul(in MatrixView, ReadOnlySpan{byte}, int, Span{float}, int, int)"/>.
/// <see cref="ScalarMatrixKernels"/> is the reference every faster implementation is tested against.
/// </summary>
public interface IMatrixKernels
{
    string Name { get; }

    KernelPath Path { get; }

    /// <summary>
    /// Whether <see cref="Prepare"/> rearranges matrices of this type; a model gives such matrices
    /// writable memory of their own (its weight arena, or a copy-on-write mapping of the file).
    /// </summary>
    bool Rearranges(TensorType type);

    /// <summary>
    /// Rearranges a weight matrix in place (its memory must be writable when <see cref="Rearranges"/>
    /// is true) into the layout these kernels read fastest, and returns the view to use from then on.
    /// </summary>
    MatrixView Prepare(MatrixView weights);

    /// <summary>Bytes that <paramref name="count"/> converted activation rows for <paramref name="matrix"/> take.</summary>
    int ActivationBytes(in MatrixView matrix, int count);

    /// <summary>Converts count × Columns activations (row-major) into <paramref name="activations"/>.</summary>
    void ConvertActivations(in MatrixView matrix, ReadOnlySpan<float> x, int count, Span<byte> activations);

    /// <summary>
    /// Y[t, r] = Σc M[r, c]·X[t, c] for t &lt; <paramref name="count"/> and rows
    /// <paramref name="rowStart"/> ≤ r &lt; <paramref name="rowEnd"/>, from converted activations; y is
    /// count × Rows, row-major. Row ranges let threads share a matrix; each result is the same
    /// whatever the range, the count, or the thread.
    /// </summary>
    void MatMul(in MatrixView matrix, ReadOnlySpan<byte> activations, int count, Span<float> y, int rowStart, int rowEnd);

    /// <summary>Softmax of scale·x in place; the sum of exponentials is formed in double, as ggml does.</summary>
    void Softmax(Span<float> x, float scale);

    /// <summary>Bytes of scratch that <paramref name="count"/> activation rows for <paramref name="matrix"/> need.</summary>
    int ScratchBytes(in MatrixView matrix, int count) => ActivationBytes(matrix, count);

    /// <summary>y[r] = Σc M[r, c]·x[c]: x has Columns values, y has Rows.</summary>
    void MatVec(in MatrixView matrix, ReadOnlySpan<float> x, Span<float> y, Span<byte> scratch) => MatMul(matrix, x, 1, y, scratch);

    /// <summary>
    /// Y[t, r] = Σc M[r, c]·X[t, c] for t &lt; <paramref name="count"/>: x is count × Columns and y is
    /// count × Rows, both row-major; <paramref name="scratch"/> holds the converted activations.
    /// </summary>
    void MatMul(in MatrixView matrix, ReadOnlySpan<float> x, int count, Span<float> y, Span<byte> scratch)
    {
        if (x.Length < (long)count * matrix.Columns)
            throw new ArgumentException($"{count} activation rows of {matrix.Columns} need {(long)count * matrix.Columns} values, got {x.Length}", nameof(x));
        int bytes = ActivationBytes(matrix, count);
        if (scratch.Length < bytes)
            throw new ArgumentException($"scratch of {scratch.Length} bytes is smaller than the {bytes} the activations need", nameof(scratch));
        ConvertActivations(matrix, x, count, scratch);
        MatMul(matrix, scratch, count, y, 0, matrix.Rows);
    }
}

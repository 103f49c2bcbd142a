using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Promptd.Inference.Gguf;
using Promptd.Inference.Tensors;

namespace Promptd.Inference.Kernels.Simd;

/// <summary>
/// The SIMD kernels: quantized weights interleaved 16 rows at a time and multiplied with 8-bit
/// activations (<see cref="QuantKernel{TFormat, TDot}"/>, equal to the scalar reference bit for
/// bit), float weights and the KV cache multiplied as they are (<see cref="FloatKernel{TElements, TWide}"/>).
/// One instance per path; stateless, so any number of threads share it.
/// </summary>
internal sealed unsafe class SimdMatrixKernels : IMatrixKernels
{
    private static readonly SimdMatrixKernels?[] Instances = new SimdMatrixKernels?[5];

    private readonly bool _vnni;
    private readonly bool _wide;

    private SimdMatrixKernels(KernelPath path)
    {
        Path = path;
        _vnni = path is KernelPath.AvxVnni || (path is KernelPath.Avx512 && KernelPaths.IsSupported(KernelPath.AvxVnni));
        _wide = path is KernelPath.Avx512;
    }

    public static SimdMatrixKernels For(KernelPath path)
    {
        if (path is not (KernelPath.Avx2 or KernelPath.AvxVnni or KernelPath.Avx512) || !KernelPaths.IsSupported(path))
            throw new NotSupportedException($"no SIMD kernels for path {KernelPaths.Name(path)} on this CPU");
        return Instances[(int)path] ??= new SimdMatrixKernels(path);
    }

    public KernelPath Path { get; }
    public string Name => KernelPaths.Name(Path) + (Path == KernelPath.Avx512 && _vnni ? "+vnni" : "");

    public bool Rearranges(TensorType type) => InterleavedRows.For(type) is not null;

    public MatrixView Prepare(MatrixView weights)
    {
        if (weights.Interleaved || weights.Finite) return weights;
        if (weights.Type.Id == GgmlType.F16)
        {
            CheckFiniteHalves(weights);
            return weights.AsFinite();
        }
        var format = InterleavedRows.For(weights.Type);
        if (format is null) return weights;
        if (weights.RowStride != weights.RowBytes) throw new ArgumentException("only a matrix of consecutive rows can be interleaved", nameof(weights));
        format.Interleave(weights.RowPointer(0), weights.Rows, weights.Columns / weights.Type.BlockSize);
        return weights.AsInterleaved();
    }

    /// <summary>F16 weights are converted the short way (finite values only): a file with an infinite or NaN weight is corrupt.</summary>
    private static void CheckFiniteHalves(MatrixView weights)
    {
        int bad = -1;
        Parallel.For(0, weights.Rows, r =>
        {
            var row = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(new ReadOnlySpan<byte>(weights.RowPointer(r), weights.RowBytes));
            var exponent = Vector256.Create((ushort)0x7C00);
            int i = 0;
            bool found = false;
            for (; i + 16 <= row.Length && !found; i += 16)
                found = Vector256.EqualsAny(Vector256.Create(row.Slice(i, 16)) & exponent, exponent);
            for (; i < row.Length && !found; i++) found = (row[i] & 0x7C00) == 0x7C00;
            if (found) Interlocked.CompareExchange(ref bad, r, -1);
        });
        if (bad >= 0) throw new InvalidDataException($"row {bad} holds an infinite or NaN F16 weight");
    }

    public int ActivationBytes(in MatrixView matrix, int count) =>
        checked(count * new ActivationRows(matrix.Type.ActivationType, matrix.Columns).Stride);

    public void ConvertActivations(in MatrixView matrix, ReadOnlySpan<float> x, int count, Span<byte> activations)
    {
        var layout = new ActivationRows(matrix.Type.ActivationType, matrix.Columns);
        int columns = matrix.Columns;
        if (x.Length < (long)count * columns) throw new ArgumentException($"{count} rows of {columns} activations need {(long)count * columns} values", nameof(x));
        if (activations.Length < (long)count * layout.Stride) throw new ArgumentException($"{count} converted rows need {(long)count * layout.Stride} bytes", nameof(activations));
        for (int t = 0; t < count; t++)
            layout.Convert(x.Slice(t * columns, columns), activations.Slice(t * layout.Stride, layout.Stride), _wide);
    }

    public void MatMul(in MatrixView matrix, ReadOnlySpan<byte> activations, int count, Span<float> y, int rowStart, int rowEnd)
    {
        var layout = new ActivationRows(matrix.Type.ActivationType, matrix.Columns);
        if (activations.Length < (long)count * layout.Stride) throw new ArgumentException($"{count} converted rows need {(long)count * layout.Stride} bytes", nameof(activations));
        if (y.Length < (long)count * matrix.Rows) throw new ArgumentException($"{count} output rows of {matrix.Rows} need {(long)count * matrix.Rows} values", nameof(y));
        if (rowStart < 0 || rowEnd > matrix.Rows || rowStart > rowEnd) throw new ArgumentOutOfRangeException(nameof(rowStart), $"rows {rowStart}..{rowEnd} of a {matrix.Rows}-row matrix");
        if (rowStart < matrix.InterleavedRowCount && rowStart % InterleavedRows.GroupRows != 0)
            throw new ArgumentOutOfRangeException(nameof(rowStart), $"an interleaved matrix is split at multiples of {InterleavedRows.GroupRows} rows, not {rowStart}");
        if (count == 0 || rowStart == rowEnd) return;

        fixed (byte* a = activations)
        fixed (float* output = y)
        {
            switch (matrix.Type.Id)
            {
                case GgmlType.F32: Float<F32Elements>(matrix, a, layout, count, output, rowStart, rowEnd); break;
                case GgmlType.F16 when matrix.Finite: Float<FiniteF16Elements>(matrix, a, layout, count, output, rowStart, rowEnd); break;
                case GgmlType.F16: Float<F16Elements>(matrix, a, layout, count, output, rowStart, rowEnd); break;
                case GgmlType.BF16: Float<BF16Elements>(matrix, a, layout, count, output, rowStart, rowEnd); break;
                default:
                    if (_vnni) Quantized<VnniDot>(matrix, layout, a, count, output, rowStart, rowEnd);
                    else Quantized<MaddDot>(matrix, layout, a, count, output, rowStart, rowEnd);
                    break;
            }
        }
    }

    private void Float<TElements>(in MatrixView matrix, byte* a, in ActivationRows layout, int count, float* y, int rowStart, int rowEnd)
        where TElements : struct, IFloatElements
    {
        if (_wide) FloatKernel<TElements, Wide512>.MatMul(matrix, (float*)a, layout.Stride / 4, count, y, rowStart, rowEnd);
        else FloatKernel<TElements, Wide256>.MatMul(matrix, (float*)a, layout.Stride / 4, count, y, rowStart, rowEnd);
    }

    private static void Quantized<TDot>(in MatrixView matrix, in ActivationRows layout, byte* a, int count, float* y, int rowStart, int rowEnd)
        where TDot : struct, IByteDot
    {
        if (!matrix.Interleaved)
        {
            // A matrix nobody prepared: the activation rows start with ggml's bytes, so the reference serves.
            for (int r = rowStart; r < rowEnd; r++)
            {
                var weights = matrix.Row(r);
                for (int t = 0; t < count; t++)
                    y[(long)t * matrix.Rows + r] = matrix.Type.Dot(weights, new ReadOnlySpan<byte>(a + (long)t * layout.Stride, layout.ExtrasOffset), matrix.Columns);
            }
            return;
        }
        switch (matrix.Type.Id)
        {
            case GgmlType.Q8_0: QuantKernel<Q8_0Format, TDot>.MatMul(matrix, layout, a, count, y, rowStart, rowEnd); break;
            case GgmlType.Q4_0: QuantKernel<Q4_0Format, TDot>.MatMul(matrix, layout, a, count, y, rowStart, rowEnd); break;
            case GgmlType.Q4_1: QuantKernel<Q4_1Format, TDot>.MatMul(matrix, layout, a, count, y, rowStart, rowEnd); break;
            case GgmlType.Q5_0: QuantKernel<Q5_0Format, TDot>.MatMul(matrix, layout, a, count, y, rowStart, rowEnd); break;
            case GgmlType.Q5_1: QuantKernel<Q5_1Format, TDot>.MatMul(matrix, layout, a, count, y, rowStart, rowEnd); break;
            case GgmlType.Q2_K: QuantKernel<Q2_KFormat, TDot>.MatMul(matrix, layout, a, count, y, rowStart, rowEnd); break;
            case GgmlType.Q3_K: QuantKernel<Q3_KFormat, TDot>.MatMul(matrix, layout, a, count, y, rowStart, rowEnd); break;
            case GgmlType.Q4_K: QuantKernel<Q4_KFormat, TDot>.MatMul(matrix, layout, a, count, y, rowStart, rowEnd); break;
            case GgmlType.Q5_K: QuantKernel<Q5_KFormat, TDot>.MatMul(matrix, layout, a, count, y, rowStart, rowEnd); break;
            case GgmlType.Q6_K: QuantKernel<Q6_KFormat, TDot>.MatMul(matrix, layout, a, count, y, rowStart, rowEnd); break;
            default: throw new NotSupportedException($"no SIMD kernel for {matrix.Type.Name}");
        }
    }

    /// <summary>
    /// Softmax as ggml's vectorized one computes it: vector exponentials, each vector's sum added
    /// in double. Vector512/256.Exp differs from MathF.Exp by at most an ulp or so.
    /// </summary>
    public void Softmax(Span<float> x, float scale)
    {
        fixed (float* p = x)
        {
            int n = x.Length, i = 0;
            var s = Vector256.Create(scale);
            var m = Vector256.Create(float.NegativeInfinity);
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.Load(p + i) * s;
                v.Store(p + i);
                m = Vector256.Max(m, v);
            }
            float max = VectorMath.HorizontalMax(m);
            for (; i < n; i++)
            {
                p[i] *= scale;
                max = MathF.Max(max, p[i]);
            }

            double sum = 0;
            i = 0;
            var maxVector = Vector256.Create(max);
            for (; i + 8 <= n; i += 8)
            {
                var e = Vector256.Exp(Vector256.Load(p + i) - maxVector);
                e.Store(p + i);
                sum += Vector256.Sum(e);
            }
            for (; i < n; i++)
            {
                p[i] = MathF.Exp(p[i] - max);
                sum += p[i];
            }
            var inverse = Vector256.Create((float)(1.0 / sum));
            i = 0;
            for (; i + 8 <= n; i += 8) (Vector256.Load(p + i) * inverse).Store(p + i);
            for (; i < n; i++) p[i] *= inverse[0];
        }
    }
}

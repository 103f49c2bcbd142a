using System.Buffers.Binary;
using Promptd.Inference.Gguf;
using Promptd.Inference.Kernels;
using Promptd.Inference.Kernels.Simd;
using Promptd.Inference.Tensors;
using System.Runtime.Intrinsics;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Kernels;

/// <summary>
/// Every SIMD path against the scalar reference on random data: quantized products must be equal
/// bit for bit (their integer sums are exact and their float steps are the reference's), float
/// products equal to float rounding of the sum of |w·a|.
/// </summary>
public unsafe class SimdKernelTests
{
    public static IEnumerable<KernelPath> SimdPaths => KernelPaths.Available.Where(p => p != KernelPath.Scalar);

    public static TheoryData<GgmlType, KernelPath> TypesAndPaths()
    {
        var data = new TheoryData<GgmlType, KernelPath>();
        foreach (var type in TensorTypes.WeightTypes)
            foreach (var path in SimdPaths) data.Add(type.Id, path);
        return data;
    }

    public static TheoryData<KernelPath> Paths() => [.. SimdPaths];

    /// <summary>Where each block keeps its F16 factors (d, dmin or m): random bytes there could be Inf or NaN.</summary>
    private static int[] HalfFields(GgmlType type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => [0],
        GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
        GgmlType.Q2_K => [80, 82],
        GgmlType.Q3_K => [108],
        GgmlType.Q6_K => [208],
        _ => [],
    };

    /// <summary>
    /// Random weights: float types from N(0, 0.1); quantized types as random bytes, so that every
    /// level, scale and min occurs, with their F16 factors set to modest random values.
    /// </summary>
    private static byte[] RandomWeights(TensorType type, int rows, int columns, int seed)
    {
        var random = new Random(seed);
        int rowBytes = type.RowBytes(columns);
        var bytes = new byte[rows * rowBytes];
        if (type.BlockSize == 1)
        {
            var values = Gaussian.Samples(rows * columns, seed, sigma: 0.1f);
            for (int r = 0; r < rows; r++) type.QuantizeRow(values.AsSpan(r * columns, columns), bytes.AsSpan(r * rowBytes, rowBytes));
            return bytes;
        }
        random.NextBytes(bytes);
        int blocks = rows * columns / type.BlockSize;
        foreach (int field in HalfFields(type.Id))
        {
            for (int b = 0; b < blocks; b++)
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(b * type.BlockBytes + field), HalfFloat.FloatToF16((float)(random.NextDouble() * 0.02 - 0.01)));
        }
        return bytes;
    }

    /// <summary>Activations with a wide range, some blocks all zero (amax = 0) and some single spikes.</summary>
    private static float[] RandomActivations(int count, int columns, int seed)
    {
        var x = Gaussian.Samples(count * columns, seed, sigma: 2f);
        for (int i = 0; i < 32 && i < x.Length; i++) x[i] = 0;
        if (x.Length > 100) x[100] = 300f;
        return x;
    }

    private static float[] Multiply(IMatrixKernels kernels, MatrixView matrix, float[] x, int count)
    {
        var y = new float[count * matrix.Rows];
        var scratch = new byte[kernels.ActivationBytes(matrix, count)];
        kernels.MatMul(matrix, x, count, y, scratch);
        return y;
    }

    [Theory]
    [MemberData(nameof(TypesAndPaths))]
    public void Products_equal_the_scalar_reference(GgmlType id, KernelPath path)
    {
        var type = TensorTypes.Get(id);
        var simd = KernelPaths.Create(path);
        int columns = type.BlockSize == 256 ? 512 : 96;
        foreach (int rows in new[] { 16, 37, 53 })
        {
            var weights = RandomWeights(type, rows, columns, seed: rows);
            var packed = (byte[])weights.Clone();
            fixed (byte* plain = weights)
            fixed (byte* p = packed)
            {
                var reference = new MatrixView(plain, type, rows, columns, type.RowBytes(columns));
                var view = simd.Prepare(new MatrixView(p, type, rows, columns, type.RowBytes(columns))); // rearranges in place, once
                foreach (int count in new[] { 1, 2, 3, 4, 5, 8, 9, 17 })
                {
                    var x = RandomActivations(count, columns, seed: 1000 + count);
                    var expected = Multiply(ScalarMatrixKernels.Instance, reference, x, count);
                    var actual = Multiply(simd, view, x, count);
                    if (type.BlockSize == 1) AssertClose(weights, type, rows, columns, x, count, expected, actual);
                    else Assert.Equal(expected, actual);
                }
            }
            if (type.BlockSize > 1) Assert.NotEqual(weights, packed); // the rows really were rearranged
        }
    }

    /// <summary>Float products differ from the double sums of the reference by float rounding: within 1e-6 of Σ|w·a|.</summary>
    private static void AssertClose(byte[] weights, TensorType type, int rows, int columns, float[] x, int count, float[] expected, float[] actual)
    {
        var w = new float[columns];
        for (int r = 0; r < rows; r++)
        {
            type.DequantizeRow(weights.AsSpan(r * type.RowBytes(columns), type.RowBytes(columns)), w);
            for (int t = 0; t < count; t++)
            {
                double magnitude = 0;
                for (int c = 0; c < columns; c++) magnitude += Math.Abs(w[c] * x[t * columns + c]);
                int i = t * rows + r;
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * magnitude + 1e-30, $"{type.Name} row {r} token {t}: {actual[i]} against {expected[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndPaths))]
    public void Row_ranges_and_token_tiles_do_not_change_a_result(GgmlType id, KernelPath path)
    {
        var type = TensorTypes.Get(id);
        var simd = KernelPaths.Create(path);
        // Nine tokens: the eight-token quantized tile and the float kernel's converted rows (from eight
        // tokens) against one token at a time; float rows end past their last whole vector.
        int rows = 48 + 5, columns = type.BlockSize switch { 256 => 256, 1 => 64 + 7, _ => 64 }, count = 9;
        var weights = RandomWeights(type, rows, columns, seed: 7);
        var x = RandomActivations(count, columns, seed: 8);
        fixed (byte* p = weights)
        {
            var view = simd.Prepare(new MatrixView(p, type, rows, columns, type.RowBytes(columns)));
            var activations = new byte[simd.ActivationBytes(view, count)];
            simd.ConvertActivations(view, x, count, activations);
            var whole = new float[count * rows];
            simd.MatMul(view, activations, count, whole, 0, rows);

            var pieces = new float[count * rows];
            simd.MatMul(view, activations, count, pieces, 0, 16);
            simd.MatMul(view, activations, count, pieces, 16, 48);
            simd.MatMul(view, activations, count, pieces, 48, rows);
            Assert.Equal(whole, pieces);

            // Each token alone (a one-token tile) gives what it got inside a tile of several.
            var single = new float[rows];
            var one = new byte[simd.ActivationBytes(view, 1)];
            for (int t = 0; t < count; t++)
            {
                simd.ConvertActivations(view, x.AsSpan(t * columns, columns), 1, one);
                simd.MatMul(view, one, 1, single, 0, rows);
                Assert.Equal(whole.AsSpan(t * rows, rows).ToArray(), single);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void An_interleaved_matrix_splits_only_at_whole_groups(KernelPath path)
    {
        var simd = KernelPaths.Create(path);
        var type = TensorTypes.Q8_0;
        var weights = RandomWeights(type, 32, 32, seed: 1);
        fixed (byte* p = weights)
        {
            var view = simd.Prepare(new MatrixView(p, type, 32, 32, type.RowBytes(32)));
            var activations = new byte[simd.ActivationBytes(view, 1)];
            Assert.Throws<ArgumentOutOfRangeException>(() => simd.MatMul(view, activations, 1, new float[32], 8, 32));
            Assert.Throws<InvalidOperationException>(() => view.Row(3));
            Assert.Throws<InvalidOperationException>(() => view.TopRows(8));
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndPaths))]
    public void Interleaved_rows_read_back_as_they_were(GgmlType id, KernelPath path)
    {
        var type = TensorTypes.Get(id);
        int rows = 37, columns = 2 * (type.BlockSize == 1 ? 32 : type.BlockSize);
        var weights = RandomWeights(type, rows, columns, seed: 3);
        var packed = (byte[])weights.Clone();
        int rowBytes = type.RowBytes(columns);
        fixed (byte* p = packed)
        {
            var view = KernelPaths.Create(path).Prepare(new MatrixView(p, type, rows, columns, rowBytes));
            var row = new byte[rowBytes];
            var values = new float[columns];
            var expectedValues = new float[columns];
            for (int r = 0; r < rows; r++)
            {
                view.CopyRow(r, row);
                Assert.Equal(weights.AsSpan(r * rowBytes, rowBytes).ToArray(), row);
                view.DequantizeRow(r, values);
                type.DequantizeRow(weights.AsSpan(r * rowBytes, rowBytes), expectedValues);
                Assert.Equal(expectedValues, values);
            }
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndPaths))]
    public void Converted_activations_start_with_the_reference_quantizer_bytes(GgmlType id, KernelPath path)
    {
        var weightType = TensorTypes.Get(id);
        var type = weightType.ActivationType;
        var simd = KernelPaths.Create(path);
        int columns = 512;
        var x = RandomActivations(3, columns, seed: 11);
        var view = new MatrixView(null, weightType, 1, columns, weightType.RowBytes(columns));
        var converted = new byte[simd.ActivationBytes(view, 3)];
        simd.ConvertActivations(view, x, 3, converted);
        int stride = converted.Length / 3;
        for (int t = 0; t < 3; t++)
        {
            var row = converted.AsSpan(t * stride, stride);
            if (type.BlockSize == 1)
            {
                // Float formats: the values rounded to F16/BF16, as the reference converts them.
                var reference = new byte[type.RowBytes(columns)];
                type.QuantizeActivationRow(x.AsSpan(t * columns, columns), reference);
                var expected = new float[columns];
                type.DequantizeRow(reference, expected);
                Assert.Equal(expected, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(row)[..columns].ToArray());
                continue;
            }
            var bytes = new byte[type.RowBytes(columns)];
            type.QuantizeActivationRow(x.AsSpan(t * columns, columns), bytes);
            Assert.Equal(bytes, row[..bytes.Length].ToArray());
        }
    }

    /// <summary>Every F16 bit pattern converted 8 at a time and (on AVX-512 machines) 16 at a time.</summary>
    private static (float[] Narrow, float[] Wide) ConvertEveryF16(delegate*<ushort*, Vector256<float>> load8, delegate*<ushort*, Vector512<float>> load16)
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        var wide = new float[65536];
        var narrow = new float[65536];
        fixed (ushort* b = bits)
        {
            for (int i = 0; i < bits.Length; i += 8) load8(b + i).CopyTo(narrow.AsSpan(i));
            if (KernelPaths.IsSupported(KernelPath.Avx512))
                for (int i = 0; i < bits.Length; i += 16) load16(b + i).CopyTo(wide.AsSpan(i));
            else narrow.CopyTo(wide, 0);
        }
        return (narrow, wide);
    }

    [Fact]
    public void Every_F16_value_converts_as_the_scalar_table_does()
    {
        if (!KernelPaths.IsSupported(KernelPath.Avx2)) return;
        var (narrow, wide) = ConvertEveryF16(&HalfVector.Load8, &HalfVector.Load16);
        for (int i = 0; i < narrow.Length; i++)
        {
            uint expected = BitConverter.SingleToUInt32Bits(HalfFloat.F16ToFloat((ushort)i));
            Assert.Equal(expected, BitConverter.SingleToUInt32Bits(narrow[i]));
            Assert.Equal(expected, BitConverter.SingleToUInt32Bits(wide[i]));
        }
    }

    /// <summary>
    /// The short conversion for values known finite (F16 weights, block factors) gives every finite
    /// value exactly — subnormals included, which it reaches without arithmetic on subnormal floats —
    /// except −0, which comes out +0.
    /// </summary>
    [Fact]
    public void Every_finite_F16_value_converts_exactly_on_the_short_path()
    {
        if (!KernelPaths.IsSupported(KernelPath.Avx2)) return;
        var (narrow, wide) = ConvertEveryF16(&HalfVector.LoadFinite8, &HalfVector.LoadFinite16);
        int checkedValues = 0;
        for (int i = 0; i < narrow.Length; i++)
        {
            if ((i & 0x7C00) == 0x7C00) continue; // infinities and NaNs: not for this path
            float expected = i == 0x8000 ? 0f : HalfFloat.F16ToFloat((ushort)i);
            Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(narrow[i]));
            Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(wide[i]));
            checkedValues++;
        }
        Assert.Equal(63488, checkedValues);
    }

    [Fact]
    public void Floats_round_to_F16_and_BF16_as_the_scalar_converters_do()
    {
        if (!KernelPaths.IsSupported(KernelPath.Avx2)) return;
        var random = new Random(5);
        var values = new List<float>
        {
            0f, -0f, 1f, -1f, 65504f, 65519.996f, 65520f, -65520f, 1e10f, float.PositiveInfinity, float.NegativeInfinity, float.NaN,
            BitConverter.UInt32BitsToSingle(0x7FA00001), BitConverter.UInt32BitsToSingle(0xFFC12345), 6.1035156e-5f, 6.0975552e-5f,
            5.9604645e-8f, 2.9802322e-8f, 2.9802326e-8f, 1e-9f, -3.0517578e-5f, float.Epsilon, 1.00048828125f, 1.0014648f,
        };
        for (int i = 0; i < 200000; i++) values.Add(BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32)));
        for (int i = 0; i < 20000; i++) values.Add((float)(random.NextDouble() * 131072 - 65536));
        while (values.Count % 16 != 0) values.Add(0.5f);
        var x = values.ToArray();
        fixed (float* p = x)
        {
            for (int i = 0; i < x.Length; i += 8)
            {
                var half = HalfVector.ToHalfBits(Vector256.Load(p + i));
                var bf = HalfVector.RoundToBF16(Vector256.Load(p + i));
                for (int j = 0; j < 8; j++)
                {
                    Assert.Equal(HalfFloat.FloatToF16(x[i + j]), (ushort)half[j]);
                    Assert.Equal(HalfFloat.FloatToBF16(x[i + j]), (ushort)(BitConverter.SingleToUInt32Bits(bf[j]) >> 16));
                }
            }
            if (!KernelPaths.IsSupported(KernelPath.Avx512)) return;
            for (int i = 0; i < x.Length; i += 16)
            {
                var half = HalfVector.ToHalfBits(Vector512.Load(p + i));
                var bf = HalfVector.RoundToBF16(Vector512.Load(p + i));
                for (int j = 0; j < 16; j++)
                {
                    Assert.Equal(HalfFloat.FloatToF16(x[i + j]), (ushort)half[j]);
                    Assert.Equal(HalfFloat.FloatToBF16(x[i + j]), (ushort)(BitConverter.SingleToUInt32Bits(bf[j]) >> 16));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Softmax_agrees_with_the_scalar_one(KernelPath path)
    {
        var simd = KernelPaths.Create(path);
        foreach (int n in new[] { 1, 7, 8, 33, 300 })
        {
            var x = Gaussian.Samples(n, seed: n, sigma: 3f);
            var expected = (float[])x.Clone();
            ScalarMatrixKernels.Instance.Softmax(expected, 0.125f);
            simd.Softmax(x, 0.125f);
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(expected[i] - x[i]) <= 2e-7f + 2e-6f * expected[i], $"n={n} [{i}]: {x[i]} against {expected[i]}");
            Assert.Equal(1.0, x.Sum(v => (double)v), 5);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_matrix_nobody_prepared_still_multiplies_correctly(KernelPath path)
    {
        var simd = KernelPaths.Create(path);
        var type = TensorTypes.Q4_K;
        var weights = RandomWeights(type, 20, 256, seed: 9);
        var x = RandomActivations(2, 256, seed: 10);
        fixed (byte* p = weights)
        {
            var view = new MatrixView(p, type, 20, 256, type.RowBytes(256));
            Assert.Equal(Multiply(ScalarMatrixKernels.Instance, view, x, 2), Multiply(simd, view, x, 2));
        }
    }
}

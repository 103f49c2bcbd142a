using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Promptd.Inference.Tensors;

namespace Promptd.Inference.Kernels.Simd;

/// <summary>Reading one float weight type: 8 or 16 elements as floats, or one.</summary>
internal unsafe interface IFloatElements
{
    static abstract int Bytes { get; }
    static abstract Vector256<float> Load8(byte* p);
    static abstract Vector512<float> Load16(byte* p);
    static abstract float Load1(byte* p);
}

internal readonly unsafe struct F32Elements : IFloatElements
{
    public static int Bytes => 4;
    public static Vector256<float> Load8(byte* p) => Vector256.Load((float*)p);
    public static Vector512<float> Load16(byte* p) => Vector512.Load((float*)p);
    public static float Load1(byte* p) => *(float*)p;
}

internal readonly unsafe struct F16Elements : IFloatElements
{
    public static int Bytes => 2;
    public static Vector256<float> Load8(byte* p) => HalfVector.Load8((ushort*)p);
    public static Vector512<float> Load16(byte* p) => HalfVector.Load16((ushort*)p);
    public static float Load1(byte* p) => HalfFloat.F16ToFloat(*(ushort*)p);
}

/// <summary>F16 values checked finite (weights): converted in four instructions instead of eleven.</summary>
internal readonly unsafe struct FiniteF16Elements : IFloatElements
{
    public static int Bytes => 2;
    public static Vector256<float> Load8(byte* p) => HalfVector.LoadFinite8((ushort*)p);
    public static Vector512<float> Load16(byte* p) => HalfVector.LoadFinite16((ushort*)p);
    public static float Load1(byte* p) => HalfFloat.F16ToFloat(*(ushort*)p);
}

internal readonly unsafe struct BF16Elements : IFloatElements
{
    public static int Bytes => 2;
    public static Vector256<float> Load8(byte* p) => HalfVector.LoadBF8((ushort*)p);
    public static Vector512<float> Load16(byte* p) => HalfVector.LoadBF16((ushort*)p);
    public static float Load1(byte* p) => HalfFloat.BF16ToFloat(*(ushort*)p);
}

/// <summary>
/// Matrix products of F32, F16 or BF16 rows (weights, or the KV cache) with float activations
/// already rounded to the weight type's activation format. Tiles of up to 4 rows × 4 tokens: each
/// (row, token) pair has one vector accumulator, multiplied and added lane by lane along the row,
/// then summed across lanes (all sixteen of a tile at once, in one fixed order:
/// <see cref="IWidth{TSelf}.Sums"/>), then the columns past the last whole vector are added one by
/// one — the same steps whatever the tile, so a result does not depend on how rows and tokens were grouped
/// (nor on whether F16/BF16 rows were converted to floats first: the conversion is exact).
/// The products of F16 and BF16 values are exact in float, so fused multiply-adds round like a
/// multiply and an add would; the order differs from the scalar reference's double sums, hence
/// results agree with it to float rounding, not bit for bit.
/// </summary>
internal static unsafe class FloatKernel<TElements, TWide>
    where TElements : struct, IFloatElements
    where TWide : struct, IWidth<TWide>
{
    /// <summary>
    /// From this many tokens on, F16 and BF16 rows are converted to floats once, four at a time, into
    /// a per-thread buffer that every token tile then reads: a tile converting its own weights spends
    /// more instructions on converting than on multiplying. The converted values are exact, so the
    /// results are the same either way.
    /// </summary>
    private const int ConvertRowsFrom = 8;

    public static void MatMul(in MatrixView matrix, float* activations, int activationStride, int count, float* y, int rowStart, int rowEnd)
    {
        if (typeof(TElements) != typeof(F32Elements) && count >= ConvertRowsFrom)
        {
            ConvertedMatMul(matrix, activations, activationStride, count, y, rowStart, rowEnd);
            return;
        }
        for (int r = rowStart; r < rowEnd; r += 4)
            Rows(Math.Min(4, rowEnd - r), matrix.RowPointer(r), matrix.RowStride, matrix.Columns, activations, activationStride, count, y + r, matrix.Rows);
    }

    private static void ConvertedMatMul(in MatrixView matrix, float* x, int xStride, int count, float* y, int rowStart, int rowEnd)
    {
        int columns = matrix.Columns;
        float* converted = ConvertedRows.For(4 * columns);
        for (int r = rowStart; r < rowEnd; r += 4)
        {
            int rows = Math.Min(4, rowEnd - r);
            for (int i = 0; i < rows; i++) Convert(matrix.RowPointer(r + i), columns, converted + i * columns);
            FloatKernel<F32Elements, TWide>.Rows(rows, (byte*)converted, columns * 4L, columns, x, xStride, count, y + r, matrix.Rows);
        }
    }

    /// <summary>One to four rows from <paramref name="w"/>, every token.</summary>
    private static void Rows(int rows, byte* w, long stride, int columns, float* x, int xStride, int count, float* y, int yStride)
    {
        switch (rows)
        {
            case 4: Rows<Four>(w, stride, columns, x, xStride, count, y, yStride); break;
            case 3: Rows<Three>(w, stride, columns, x, xStride, count, y, yStride); break;
            case 2: Rows<Two>(w, stride, columns, x, xStride, count, y, yStride); break;
            default: Rows<One>(w, stride, columns, x, xStride, count, y, yStride); break;
        }
    }

    // Fully optimized from its first call, like the tiles: it runs once per four rows, so tiering
    // would leave a whole model's first prompts to its unoptimized code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Convert(byte* w, int columns, float* destination)
    {
        int c = 0;
        for (; c + TWide.Lanes <= columns; c += TWide.Lanes) TWide.Store(TWide.Load<TElements>(w + c * TElements.Bytes), destination + c);
        for (; c < columns; c++) destination[c] = TElements.Load1(w + c * TElements.Bytes);
    }

    private static void Rows<TRows>(byte* w, long stride, int columns, float* x, int xStride, int count, float* y, int yStride)
        where TRows : struct, ITile
    {
        int t = 0;
        for (; t + 4 <= count; t += 4) Tile<TRows, Four>(w, stride, columns, x + (long)t * xStride, xStride, y + (long)t * yStride, yStride);
        switch (count - t)
        {
            case 3: Tile<TRows, Three>(w, stride, columns, x + (long)t * xStride, xStride, y + (long)t * yStride, yStride); break;
            case 2: Tile<TRows, Two>(w, stride, columns, x + (long)t * xStride, xStride, y + (long)t * yStride, yStride); break;
            case 1: Tile<TRows, One>(w, stride, columns, x + (long)t * xStride, xStride, y + (long)t * yStride, yStride); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows, TTokens>(byte* w0, long stride, int columns, float* x0, int xStride, float* y, int yStride)
        where TRows : struct, ITile
        where TTokens : struct, ITile
    {
        int rows = TRows.Count, tokens = TTokens.Count;
        byte* w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
        float* x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
        int bytes = TElements.Bytes;
        int whole = columns / TWide.Lanes * TWide.Lanes;
        TWide a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        TWide a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        for (int c = 0; c < whole; c += TWide.Lanes)
        {
            var v0 = TWide.Load<TElements>(w0 + c * bytes);
            var v1 = rows > 1 ? TWide.Load<TElements>(w1 + c * bytes) : default;
            var v2 = rows > 2 ? TWide.Load<TElements>(w2 + c * bytes) : default;
            var v3 = rows > 3 ? TWide.Load<TElements>(w3 + c * bytes) : default;
            var x = TWide.Load(x0 + c);
            a00 = TWide.MultiplyAdd(v0, x, a00);
            if (rows > 1) a10 = TWide.MultiplyAdd(v1, x, a10);
            if (rows > 2) a20 = TWide.MultiplyAdd(v2, x, a20);
            if (rows > 3) a30 = TWide.MultiplyAdd(v3, x, a30);
            if (tokens > 1)
            {
                x = TWide.Load(x1 + c);
                a01 = TWide.MultiplyAdd(v0, x, a01);
                if (rows > 1) a11 = TWide.MultiplyAdd(v1, x, a11);
                if (rows > 2) a21 = TWide.MultiplyAdd(v2, x, a21);
                if (rows > 3) a31 = TWide.MultiplyAdd(v3, x, a31);
            }
            if (tokens > 2)
            {
                x = TWide.Load(x2 + c);
                a02 = TWide.MultiplyAdd(v0, x, a02);
                if (rows > 1) a12 = TWide.MultiplyAdd(v1, x, a12);
                if (rows > 2) a22 = TWide.MultiplyAdd(v2, x, a22);
                if (rows > 3) a32 = TWide.MultiplyAdd(v3, x, a32);
            }
            if (tokens > 3)
            {
                x = TWide.Load(x3 + c);
                a03 = TWide.MultiplyAdd(v0, x, a03);
                if (rows > 1) a13 = TWide.MultiplyAdd(v1, x, a13);
                if (rows > 2) a23 = TWide.MultiplyAdd(v2, x, a23);
                if (rows > 3) a33 = TWide.MultiplyAdd(v3, x, a33);
            }
        }
        float* sums = stackalloc float[16];
        TWide.Sums(a00, a10, a20, a30, a01, a11, a21, a31, a02, a12, a22, a32, a03, a13, a23, a33, sums);
        for (int t = 0; t < tokens; t++)
        {
            if (rows == 4) Vector128.Load(sums + 4 * t).Store(y + t * yStride);
            else for (int r = 0; r < rows; r++) y[t * yStride + r] = sums[4 * t + r];
        }
        // Columns past the last whole vector, one by one, after the vector sum (no calls above, so the
        // accumulators stay in registers through the loop).
        if (whole == columns) return;
        for (int t = 0; t < tokens; t++)
        {
            float* x = x0 + t * xStride;
            for (int r = 0; r < rows; r++) y[t * yStride + r] += Tail(w0 + r * stride, x, whole, columns);
        }
    }

    private static float Tail(byte* w, float* x, int from, int columns)
    {
        float sum = 0;
        for (int c = from; c < columns; c++) sum += TElements.Load1(w + c * TElements.Bytes) * x[c];
        return sum;
    }
}

/// <summary>
/// A float vector of one width — 16 lanes (AVX-512) or 8 (AVX2) — so the float kernel is written
/// once; a struct around one vector, which the JIT keeps in a register.
/// </summary>
internal unsafe interface IWidth<TSelf> where TSelf : struct, IWidth<TSelf>
{
    static abstract int Lanes { get; }
    static abstract TSelf Load(float* p);
    static abstract TSelf Load<TElements>(byte* p) where TElements : struct, IFloatElements;
    static abstract void Store(TSelf v, float* p);
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>
    /// The lane sums of a tile's sixteen accumulators (token t, row r: <c>tTrR</c>) into
    /// <paramref name="sums"/>[4t + r]. Each vector's lanes are added as a tree — lane i with lane
    /// i + n/2, then i + n/4, … — the same for every vector, whichever tile it was in; a tile's
    /// vectors are reduced together, lanes of several vectors per instruction (about 3 instructions
    /// per sum instead of 25 for one vector at a time).
    /// </summary>
    static abstract void Sums(TSelf t0r0, TSelf t0r1, TSelf t0r2, TSelf t0r3, TSelf t1r0, TSelf t1r1, TSelf t1r2, TSelf t1r3,
        TSelf t2r0, TSelf t2r1, TSelf t2r2, TSelf t2r3, TSelf t3r0, TSelf t3r1, TSelf t3r2, TSelf t3r3, float* sums);
}

internal readonly unsafe struct Wide512 : IWidth<Wide512>
{
    private readonly Vector512<float> _v;
    private Wide512(Vector512<float> v) => _v = v;
    public static int Lanes => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide512 Load(float* p) => new(Vector512.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide512 Load<TElements>(byte* p) where TElements : struct, IFloatElements => new(TElements.Load16(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Wide512 v, float* p) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide512 MultiplyAdd(Wide512 a, Wide512 b, Wide512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sums(Wide512 t0r0, Wide512 t0r1, Wide512 t0r2, Wide512 t0r3, Wide512 t1r0, Wide512 t1r1, Wide512 t1r2, Wide512 t1r3,
        Wide512 t2r0, Wide512 t2r1, Wide512 t2r2, Wide512 t2r3, Wide512 t3r0, Wide512 t3r1, Wide512 t3r2, Wide512 t3r3, float* sums)
    {
        // Lanes i and i + 8 of two vectors: 256-bit halves side by side, added.
        var r0 = Halves(t0r0._v, t1r0._v);
        var r1 = Halves(t2r0._v, t3r0._v);
        var r2 = Halves(t0r1._v, t1r1._v);
        var r3 = Halves(t2r1._v, t3r1._v);
        var r4 = Halves(t0r2._v, t1r2._v);
        var r5 = Halves(t2r2._v, t3r2._v);
        var r6 = Halves(t0r3._v, t1r3._v);
        var r7 = Halves(t2r3._v, t3r3._v);
        // Lanes i and i + 4: 128-bit quarters, four vectors per result.
        var s0 = Quarters(r0, r1);
        var s1 = Quarters(r2, r3);
        var s2 = Quarters(r4, r5);
        var s3 = Quarters(r6, r7);
        // Lanes i and i + 2, then i and i + 1, inside each quarter.
        var q0 = Avx512F.Shuffle(s0, s1, 0x44) + Avx512F.Shuffle(s0, s1, 0xEE);
        var q1 = Avx512F.Shuffle(s2, s3, 0x44) + Avx512F.Shuffle(s2, s3, 0xEE);
        (Avx512F.Shuffle(q0, q1, 0x88) + Avx512F.Shuffle(q0, q1, 0xDD)).Store(sums);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Halves(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0x44) + Avx512F.Shuffle4x128(a, b, 0xEE);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quarters(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0x88) + Avx512F.Shuffle4x128(a, b, 0xDD);
}

internal readonly unsafe struct Wide256 : IWidth<Wide256>
{
    private readonly Vector256<float> _v;
    private Wide256(Vector256<float> v) => _v = v;
    public static int Lanes => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide256 Load(float* p) => new(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide256 Load<TElements>(byte* p) where TElements : struct, IFloatElements => new(TElements.Load8(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Wide256 v, float* p) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide256 MultiplyAdd(Wide256 a, Wide256 b, Wide256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sums(Wide256 t0r0, Wide256 t0r1, Wide256 t0r2, Wide256 t0r3, Wide256 t1r0, Wide256 t1r1, Wide256 t1r2, Wide256 t1r3,
        Wide256 t2r0, Wide256 t2r1, Wide256 t2r2, Wide256 t2r3, Wide256 t3r0, Wide256 t3r1, Wide256 t3r2, Wide256 t3r3, float* sums)
    {
        Eight(t0r0._v, t1r0._v, t0r1._v, t1r1._v, t0r2._v, t1r2._v, t0r3._v, t1r3._v).Store(sums);
        Eight(t2r0._v, t3r0._v, t2r1._v, t3r1._v, t2r2._v, t3r2._v, t2r3._v, t3r3._v).Store(sums + 8);
    }

    /// <summary>
    /// The lane sums of eight vectors, given as (token a row 0, token b row 0, a row 1, b row 1, …),
    /// as [a row 0…3, b row 0…3]: lanes i and i + 4 (128-bit halves side by side), then i and i + 2,
    /// then i and i + 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Eight(Vector256<float> a0, Vector256<float> b0, Vector256<float> a1, Vector256<float> b1,
        Vector256<float> a2, Vector256<float> b2, Vector256<float> a3, Vector256<float> b3)
    {
        var r0 = Halves(a0, b0);
        var r1 = Halves(a1, b1);
        var r2 = Halves(a2, b2);
        var r3 = Halves(a3, b3);
        var s0 = Avx.Shuffle(r0, r1, 0x44) + Avx.Shuffle(r0, r1, 0xEE);
        var s1 = Avx.Shuffle(r2, r3, 0x44) + Avx.Shuffle(r2, r3, 0xEE);
        return Avx.Shuffle(s0, s1, 0x88) + Avx.Shuffle(s0, s1, 0xDD);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Halves(Vector256<float> a, Vector256<float> b) =>
        Avx.Permute2x128(a, b, 0x20) + Avx.Permute2x128(a, b, 0x31);
}

/// <summary>
/// Each thread's buffer for weight rows converted to floats (<see cref="FloatKernel{TElements, TWide}"/>):
/// a pinned array, replaced when a wider matrix comes, never shrunk — a few hundred KiB per thread
/// at most. Handed out from its first 64-byte boundary, so no 512-bit load splits a cache line.
/// </summary>
internal static unsafe class ConvertedRows
{
    [ThreadStatic] private static float[]? _buffer;

    public static float* For(int floats)
    {
        if (_buffer is null || _buffer.Length < floats + 15) _buffer = GC.AllocateUninitializedArray<float>(floats + 15, pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_buffer));
        return (float*)((start + 63) & ~(nint)63);
    }
}

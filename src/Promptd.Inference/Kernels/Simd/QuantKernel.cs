using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Promptd.Inference.Tensors;

namespace Promptd.Inference.Kernels.Simd;

/// <summary>
/// Matrix products of interleaved quantized weights (<see cref="InterleavedRows"/>) with 8-bit
/// activations (<see cref="ActivationRows"/>). Sixteen rows are done at once, one per 32-bit lane,
/// for up to four tokens at once (eight where AVX-512's 32 registers hold the sums), so each weight
/// byte loaded serves four or eight tokens.
///
/// Every row's result equals the scalar reference's bit for bit: the integer sums of a block are
/// exact, and the float steps per block — (d·d_a)·isum fused into the row's sum with one rounding,
/// and for K-quants (d_a·d)·isum − (d_a·dmin)·summs — are the scalar code's, in its order, one lane
/// per row. Levels stored with an offset (Q4_0's q − 8…) are summed unsigned, and offset·Σa is taken
/// off at the start of each group sum, from the activation sums the quantizer stored.
///
/// With one or two tokens, the pairs of a group go alternately to two sets of integer sums, so the
/// chains of dependent dot products are half as long; integer sums do not depend on their order.
/// (With four tokens there are eight independent chains already, and twice as many sums would not
/// fit in the registers.) One token of a 32-element format on VNNI — generation — takes
/// <see cref="Row{TGroups}"/>: two groups at a time, sums in registers.
///
/// These methods are fast only while the JIT inlines every helper in them, and it stops inlining
/// quietly past its limits; KernelCodegenTests reads the compiled tiles and fails on any call left.
/// </summary>
internal static unsafe class QuantKernel<TFormat, TDot>
    where TFormat : struct, IQuantFormat
    where TDot : struct, IByteDot
{
    /// <summary>Rows [rowStart, rowEnd) of a matrix whose first <see cref="MatrixView.InterleavedRowCount"/> rows are interleaved.</summary>
    public static void MatMul(in MatrixView matrix, in ActivationRows layout, byte* activations, int count, float* y, int rowStart, int rowEnd)
    {
        int interleaved = Math.Min(rowEnd, matrix.InterleavedRowCount);
        int blocks = matrix.Columns / TFormat.BlockSize;
        int first = rowStart;
        if (count == 1 && !TFormat.GroupScaled && typeof(TDot) == typeof(VnniDot))
        {
            long groupBytes = InterleavedRows.GroupRows * matrix.RowStride;
            for (; first + 2 * InterleavedRows.GroupRows <= interleaved; first += 2 * InterleavedRows.GroupRows)
                Row<Two>(matrix.RowPointer(first), groupBytes, blocks, activations, layout, y + first);
            if (first < interleaved)
                Row<One>(matrix.RowPointer(first), groupBytes, blocks, activations, layout, y + first);
            first = interleaved;
        }
        for (int row = first; row < interleaved; row += InterleavedRows.GroupRows)
        {
            byte* group = matrix.RowPointer(row);
            int t = 0;
            // Eight tokens share each weight load where the 32 vector registers of AVX-512 machines
            // hold their sixteen sums.
            if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
                for (; t + 8 <= count; t += 8) TileOfEight(group, blocks, activations + (long)t * layout.Stride, layout, y + (long)t * matrix.Rows + row, matrix.Rows);
            for (; t + 4 <= count; t += 4) Tile<Four>(group, blocks, activations + (long)t * layout.Stride, layout, y + (long)t * matrix.Rows + row, matrix.Rows);
            switch (count - t)
            {
                case 3: Tile<Three>(group, blocks, activations + (long)t * layout.Stride, layout, y + (long)t * matrix.Rows + row, matrix.Rows); break;
                case 2: Tile<Two>(group, blocks, activations + (long)t * layout.Stride, layout, y + (long)t * matrix.Rows + row, matrix.Rows); break;
                case 1: Tile<One>(group, blocks, activations + (long)t * layout.Stride, layout, y + (long)t * matrix.Rows + row, matrix.Rows); break;
            }
        }
        // Rows after the last whole group stay in ggml's layout, and so do the activations' first bytes.
        for (int row = Math.Max(rowStart, interleaved); row < rowEnd; row++)
        {
            var weights = matrix.Row(row);
            for (int t = 0; t < count; t++)
            {
                var a = new ReadOnlySpan<byte>(activations + (long)t * layout.Stride, layout.ExtrasOffset);
                y[(long)t * matrix.Rows + row] = matrix.Type.Dot(weights, a, matrix.Columns);
            }
        }
    }

    /// <summary>
    /// How far ahead the weights are requested. In same-process A/B runs on TinyLlama-shaped models
    /// with 2 threads, 4 KiB gave 7–13 % more generation tokens/s than 2 KiB; 6–8 KiB about the same
    /// as 4 KiB, 12 KiB less; prefetching to L2 only (T1) or non-temporally was slower.
    /// </summary>
    private const int PrefetchDistance = 4096;

    /// <summary>Where the activation levels of block b's element e are in an activation row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int QuantsAt(int b, int e) => TFormat.BlockSize == 256
        ? b * Q8_KType.BlockLength + Q8_KType.QuantsAt + e
        : TFormat.HasMin ? b * Q8_1Type.BlockLength + 4 + e : b * Q8_0Type.BlockLength + 2 + e;

    /// <summary>Σ of the token's activation levels over a K-quant block b's group g (what an offset or a min multiplies).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int LevelSum(byte* a, int b, int g)
    {
        short* sums = (short*)(a + b * Q8_KType.BlockLength + Q8_KType.SumsAt);
        return TFormat.GroupSize == 16 ? sums[g] : sums[2 * g] + sums[2 * g + 1];
    }

    /// <summary>
    /// The constant each group sum starts from: −(offset)·Σa, and −bias·Σa for signed weights. For the
    /// 32-element formats the quantizer stored −Σa and the offset (8, 16, or 128) is a power of two, so
    /// this is one broadcast from memory and one shift: it runs for every token and block. (Any other
    /// offset would give wrong sums, which the kernel tests against the scalar reference would catch.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Start(byte* a, int extras, int blocks, int b, int g)
    {
        int offset = TFormat.Offset + (TFormat.Signed ? TDot.SignedBias : 0);
        if (offset == 0) return Vector256<int>.Zero;
        if (TFormat.BlockSize == 256) return Vector256.Create(-offset * LevelSum(a, b, g));
        return Vector256.Create(((int*)(a + extras))[blocks + b]) << System.Numerics.BitOperations.Log2((uint)offset);
    }

    /// <summary>Pairs of K-quant mins a block holds: 8 groups of 32 (one min each), or 16 of 16 (two each).</summary>
    private const int MinPairs = 8;

    /// <summary>
    /// Keeps group g's mins, per row, as 16-bit halves of the block's min pairs — pair k in the form
    /// the activation sums of elements 32k…32k+31 take (two 16-bit sums of 16): (min, min) for a
    /// 32-element group, (min of group 2k, min of group 2k+1) for 16-element groups — so that
    /// <see cref="MinSums"/> does the whole block's Σ min·Σa in eight 16-bit pair products per half.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KeepMins(int* pairs, int g, Vector256<int> minLo, Vector256<int> minHi)
    {
        if (TFormat.GroupSize == 32)
        {
            (minLo | (minLo << 16)).Store(pairs + 16 * g);
            (minHi | (minHi << 16)).Store(pairs + 16 * g + 8);
        }
        else if ((g & 1) == 0)
        {
            minLo.Store(pairs + 8 * g);
            minHi.Store(pairs + 8 * g + 8);
        }
        else
        {
            int* pair = pairs + 8 * (g - 1);
            (Vector256.Load(pair) | (minLo << 16)).Store(pair);
            (Vector256.Load(pair + 8) | (minHi << 16)).Store(pair + 8);
        }
    }

    /// <summary>
    /// A token's Σ over block b's groups of min·Σa, per row, from the pairs <see cref="KeepMins"/> kept
    /// and the 16-bit activation sums of 16 elements the quantizer stored (|Σ| ≤ 16·127): the same
    /// integers the scalar reference sums, so the same result.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MinSums(int* pairs, byte* a, int b, out Vector256<int> lo, out Vector256<int> hi)
    {
        int* sums = (int*)(a + b * Q8_KType.BlockLength + Q8_KType.SumsAt);
        lo = hi = default;
        for (int k = 0; k < MinPairs; k++)
        {
            var sum = Vector256.Create(sums[k]).AsInt16();
            lo = TDot.PairDot(lo, Vector256.Load(pairs + 16 * k).AsInt16(), sum);
            hi = TDot.PairDot(hi, Vector256.Load(pairs + 16 * k + 8).AsInt16(), sum);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> w, Vector256<sbyte> a) => TFormat.Signed
        ? TDot.DotSigned(acc, w, a)
        : TDot.Dot(acc, w, a);

    /// <summary>Four activation levels of a token, in every 32-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(byte* a) => Vector256.Create(*(int*)a).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TTile>(byte* group, int blocks, byte* a0, in ActivationRows layout, float* y, int yStride)
        where TTile : struct, ITile
    {
        int n = TTile.Count, stride = layout.Stride, extras = layout.ExtrasOffset;
        byte* a1 = a0 + stride, a2 = a1 + stride, a3 = a2 + stride;
        // Row sums: two vectors (rows 0–7, 8–15) per token; kept in memory, they are touched once per block.
        float* sums = stackalloc float[4 * InterleavedRows.GroupRows];
        new Span<float>(sums, 4 * InterleavedRows.GroupRows).Clear();
        int* minPairs = stackalloc int[TFormat.HasMin && TFormat.GroupScaled ? MinPairs * InterleavedRows.GroupRows : 0];
        int groups = TFormat.BlockSize / TFormat.GroupSize, pairs = TFormat.GroupSize / 8;
        int groupBlockBytes = InterleavedRows.GroupRows * TFormat.BlockBytes;

        for (int b = 0; b < blocks; b++)
        {
            byte* block = group + (long)b * groupBlockBytes;
            PrefetchAhead(block);
            int at = QuantsAt(b, 0);
            byte* q0 = a0 + at, q1 = a1 + at, q2 = a2 + at, q3 = a3 + at;
            Vector256<int> i0l = default, i0h = default, i1l = default, i1h = default, i2l = default, i2h = default, i3l = default, i3h = default;
            for (int g = 0; g < groups; g++)
            {
                var s0l = Start(a0, extras, blocks, b, g);
                var s0h = s0l;
                Vector256<int> s1l = default, s1h = default, s2l = default, s2h = default, s3l = default, s3h = default;
                if (n > 1) s1h = s1l = Start(a1, extras, blocks, b, g);
                if (n > 2) s2h = s2l = Start(a2, extras, blocks, b, g);
                if (n > 3) s3h = s3l = Start(a3, extras, blocks, b, g);
                if (n <= 2)
                {
                    Vector256<int> e0l = default, e0h = default, e1l = default, e1h = default;
                    for (int p = 0; p < pairs; p += 2)
                    {
                        Pair<TTile>(block, g, p, q0, q1, q2, q3, ref s0l, ref s0h, ref s1l, ref s1h, ref s2l, ref s2h, ref s3l, ref s3h);
                        Pair<TTile>(block, g, p + 1, q0, q1, q2, q3, ref e0l, ref e0h, ref e1l, ref e1h, ref s2l, ref s2h, ref s3l, ref s3h);
                    }
                    s0l += e0l;
                    s0h += e0h;
                    if (n > 1) { s1l += e1l; s1h += e1h; }
                }
                else
                {
                    for (int p = 0; p < pairs; p++)
                        Pair<TTile>(block, g, p, q0, q1, q2, q3, ref s0l, ref s0h, ref s1l, ref s1h, ref s2l, ref s2h, ref s3l, ref s3h);
                }
                if (!TFormat.GroupScaled)
                {
                    (i0l, i0h, i1l, i1h, i2l, i2h, i3l, i3h) = (s0l, s0h, s1l, s1h, s2l, s2h, s3l, s3h);
                    continue;
                }
                TFormat.GroupScales(block, g, out var scaleLo, out var scaleHi, out var minLo, out var minHi);
                i0l += s0l * scaleLo;
                i0h += s0h * scaleHi;
                if (n > 1) { i1l += s1l * scaleLo; i1h += s1h * scaleHi; }
                if (n > 2) { i2l += s2l * scaleLo; i2h += s2h * scaleHi; }
                if (n > 3) { i3l += s3l * scaleLo; i3h += s3h * scaleHi; }
                if (TFormat.HasMin) KeepMins(minPairs, g, minLo, minHi);
            }

            Vector256<int> m0l = default, m0h = default, m1l = default, m1h = default, m2l = default, m2h = default, m3l = default, m3h = default;
            if (TFormat.HasMin && TFormat.GroupScaled)
            {
                MinSums(minPairs, a0, b, out m0l, out m0h);
                if (n > 1) MinSums(minPairs, a1, b, out m1l, out m1h);
                if (n > 2) MinSums(minPairs, a2, b, out m2l, out m2h);
                if (n > 3) MinSums(minPairs, a3, b, out m3l, out m3h);
            }
            TFormat.Factors(block, out var dLo, out var dHi, out var fLo, out var fHi);
            AddBlockAt(sums, a0, extras, blocks, b, dLo, dHi, fLo, fHi, i0l, i0h, m0l, m0h);
            if (n > 1) AddBlockAt(sums + 16, a1, extras, blocks, b, dLo, dHi, fLo, fHi, i1l, i1h, m1l, m1h);
            if (n > 2) AddBlockAt(sums + 32, a2, extras, blocks, b, dLo, dHi, fLo, fHi, i2l, i2h, m2l, m2h);
            if (n > 3) AddBlockAt(sums + 48, a3, extras, blocks, b, dLo, dHi, fLo, fHi, i3l, i3h, m3l, m3h);
        }

        StoreSums(sums, n, y, yStride);
    }

    /// <summary>
    /// One token against one group of rows or two neighbouring groups (<typeparamref name="TGroups"/>),
    /// for the 32-element formats on VNNI: what generating a token spends nearly all its time in. The
    /// row sums stay in registers and the four pairs of a block are written out, so a block costs
    /// about half the instructions of <see cref="Tile{TTile}"/>; with two groups, their weights are
    /// two streams through memory, which one core reads faster than one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TGroups>(byte* group, long groupBytes, int blocks, byte* a, in ActivationRows layout, float* y)
        where TGroups : struct, ITile
    {
        bool two = TGroups.Count == 2;
        int extras = layout.ExtrasOffset;
        int groupBlockBytes = InterleavedRows.GroupRows * TFormat.BlockBytes;
        Vector256<float> fAl = default, fAh = default, fBl = default, fBh = default;
        for (int b = 0; b < blocks; b++)
        {
            byte* blockA = group + (long)b * groupBlockBytes, blockB = blockA + groupBytes;
            PrefetchAhead(blockA);
            if (two) PrefetchAhead(blockB);
            byte* q = a + QuantsAt(b, 0);
            var sAl = Start(a, extras, blocks, b, 0);
            // One group: odd pairs into the second sums (half as long dependency chains); two: group B's.
            Vector256<int> sAh = sAl, sBl = two ? sAl : default, sBh = sBl;
            byte* odd = two ? blockB : blockA;
            PairOfRow(blockA, 0, q, ref sAl, ref sAh);
            PairOfRow(odd, two ? 0 : 1, q, ref sBl, ref sBh);
            PairOfRow(blockA, two ? 1 : 2, q, ref sAl, ref sAh);
            PairOfRow(odd, two ? 1 : 3, q, ref sBl, ref sBh);
            if (two)
            {
                PairOfRow(blockA, 2, q, ref sAl, ref sAh);
                PairOfRow(blockB, 2, q, ref sBl, ref sBh);
                PairOfRow(blockA, 3, q, ref sAl, ref sAh);
                PairOfRow(blockB, 3, q, ref sBl, ref sBh);
            }
            else
            {
                sAl += sBl;
                sAh += sBh;
            }
            TFormat.Factors(blockA, out var dLo, out var dHi, out var fLo, out var fHi);
            AddBlock(ref fAl, ref fAh, a, extras, blocks, b, dLo, dHi, fLo, fHi, sAl, sAh, default, default);
            if (two)
            {
                TFormat.Factors(blockB, out dLo, out dHi, out fLo, out fHi);
                AddBlock(ref fBl, ref fBh, a, extras, blocks, b, dLo, dHi, fLo, fHi, sBl, sBh, default, default);
            }
        }
        Store(fAl, fAh, y);
        if (two) Store(fBl, fBh, y + InterleavedRows.GroupRows);
    }

    /// <summary>Pair p of a 32-element block (one group) times one token's levels q, into its sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairOfRow(byte* block, int p, byte* q, ref Vector256<int> sumLo, ref Vector256<int> sumHi)
    {
        TFormat.Levels(block, 0, p, out var lo0, out var hi0, out var lo1, out var hi1);
        Accumulate(q + TFormat.FirstElement(0, p), q + TFormat.SecondElement(0, p), lo0, hi0, lo1, hi1, ref sumLo, ref sumHi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> lo, Vector256<float> hi, float* y)
    {
        lo.Store(y);
        hi.Store(y + 8);
    }

    /// <summary>
    /// <see cref="Tile{TTile}"/> for eight tokens: the same steps, with the weight levels of each pair
    /// loaded once for all eight. The sixteen group sums fill the registers, so a format with group
    /// scales (K-quants) keeps each token's scaled sums in memory, touched once per group; its mins
    /// are taken once per block (<see cref="MinSums"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileOfEight(byte* group, int blocks, byte* a0, in ActivationRows layout, float* y, int yStride)
    {
        int stride = layout.Stride, extras = layout.ExtrasOffset;
        byte* a4 = a0 + 4L * stride;
        byte* a1 = a0 + stride, a2 = a1 + stride, a3 = a2 + stride, a5 = a4 + stride, a6 = a5 + stride, a7 = a6 + stride;
        float* sums = stackalloc float[8 * InterleavedRows.GroupRows];
        new Span<float>(sums, 8 * InterleavedRows.GroupRows).Clear();
        int* scaled = stackalloc int[TFormat.GroupScaled ? 8 * InterleavedRows.GroupRows : 0];
        int* minPairs = stackalloc int[TFormat.HasMin && TFormat.GroupScaled ? MinPairs * InterleavedRows.GroupRows : 0];
        int groups = TFormat.BlockSize / TFormat.GroupSize, pairs = TFormat.GroupSize / 8;
        int groupBlockBytes = InterleavedRows.GroupRows * TFormat.BlockBytes;

        for (int b = 0; b < blocks; b++)
        {
            byte* block = group + (long)b * groupBlockBytes;
            PrefetchAhead(block);
            int at = QuantsAt(b, 0);
            for (int g = 0; g < groups; g++)
            {
                var s0l = Start(a0, extras, blocks, b, g);
                var s1l = Start(a1, extras, blocks, b, g);
                var s2l = Start(a2, extras, blocks, b, g);
                var s3l = Start(a3, extras, blocks, b, g);
                var s4l = Start(a4, extras, blocks, b, g);
                var s5l = Start(a5, extras, blocks, b, g);
                var s6l = Start(a6, extras, blocks, b, g);
                var s7l = Start(a7, extras, blocks, b, g);
                Vector256<int> s0h = s0l, s1h = s1l, s2h = s2l, s3h = s3l, s4h = s4l, s5h = s5l, s6h = s6l, s7h = s7l;
                for (int p = 0; p < pairs; p++)
                {
                    TFormat.Levels(block, g, p, out var lo0, out var hi0, out var lo1, out var hi1);
                    int at0 = at + TFormat.FirstElement(g, p), at1 = at + TFormat.SecondElement(g, p);
                    Accumulate(a0 + at0, a0 + at1, lo0, hi0, lo1, hi1, ref s0l, ref s0h);
                    Accumulate(a1 + at0, a1 + at1, lo0, hi0, lo1, hi1, ref s1l, ref s1h);
                    Accumulate(a2 + at0, a2 + at1, lo0, hi0, lo1, hi1, ref s2l, ref s2h);
                    Accumulate(a3 + at0, a3 + at1, lo0, hi0, lo1, hi1, ref s3l, ref s3h);
                    Accumulate(a4 + at0, a4 + at1, lo0, hi0, lo1, hi1, ref s4l, ref s4h);
                    Accumulate(a5 + at0, a5 + at1, lo0, hi0, lo1, hi1, ref s5l, ref s5h);
                    Accumulate(a6 + at0, a6 + at1, lo0, hi0, lo1, hi1, ref s6l, ref s6h);
                    Accumulate(a7 + at0, a7 + at1, lo0, hi0, lo1, hi1, ref s7l, ref s7h);
                }
                if (!TFormat.GroupScaled)
                {
                    TFormat.Factors(block, out var dLo, out var dHi, out var fLo, out var fHi);
                    AddBlockAt(sums, a0, extras, blocks, b, dLo, dHi, fLo, fHi, s0l, s0h, default, default);
                    AddBlockAt(sums + 16, a1, extras, blocks, b, dLo, dHi, fLo, fHi, s1l, s1h, default, default);
                    AddBlockAt(sums + 32, a2, extras, blocks, b, dLo, dHi, fLo, fHi, s2l, s2h, default, default);
                    AddBlockAt(sums + 48, a3, extras, blocks, b, dLo, dHi, fLo, fHi, s3l, s3h, default, default);
                    AddBlockAt(sums + 64, a4, extras, blocks, b, dLo, dHi, fLo, fHi, s4l, s4h, default, default);
                    AddBlockAt(sums + 80, a5, extras, blocks, b, dLo, dHi, fLo, fHi, s5l, s5h, default, default);
                    AddBlockAt(sums + 96, a6, extras, blocks, b, dLo, dHi, fLo, fHi, s6l, s6h, default, default);
                    AddBlockAt(sums + 112, a7, extras, blocks, b, dLo, dHi, fLo, fHi, s7l, s7h, default, default);
                    continue;
                }
                TFormat.GroupScales(block, g, out var scaleLo, out var scaleHi, out var minLo, out var minHi);
                bool first = g == 0;
                AddScaled(scaled, first, s0l, s0h, scaleLo, scaleHi);
                AddScaled(scaled + 16, first, s1l, s1h, scaleLo, scaleHi);
                AddScaled(scaled + 32, first, s2l, s2h, scaleLo, scaleHi);
                AddScaled(scaled + 48, first, s3l, s3h, scaleLo, scaleHi);
                AddScaled(scaled + 64, first, s4l, s4h, scaleLo, scaleHi);
                AddScaled(scaled + 80, first, s5l, s5h, scaleLo, scaleHi);
                AddScaled(scaled + 96, first, s6l, s6h, scaleLo, scaleHi);
                AddScaled(scaled + 112, first, s7l, s7h, scaleLo, scaleHi);
                if (TFormat.HasMin) KeepMins(minPairs, g, minLo, minHi);
            }
            if (TFormat.GroupScaled)
            {
                TFormat.Factors(block, out var dLo, out var dHi, out var fLo, out var fHi);
                for (int t = 0; t < 8; t++)
                {
                    int* i = scaled + 16 * t;
                    Vector256<int> mLo = default, mHi = default;
                    if (TFormat.HasMin) MinSums(minPairs, a0 + (long)t * stride, b, out mLo, out mHi);
                    AddBlockAt(sums + 16 * t, a0 + (long)t * stride, extras, blocks, b, dLo, dHi, fLo, fHi, Vector256.Load(i), Vector256.Load(i + 8), mLo, mHi);
                }
            }
        }

        StoreSums(sums, 8, y, yStride);
    }

    /// <summary>A token's group sums times the group scales, into (or, for the first group, as) its scaled sums in memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddScaled(int* scaled, bool first, Vector256<int> sumLo, Vector256<int> sumHi, Vector256<int> scaleLo, Vector256<int> scaleHi) =>
        AddTo(scaled, first, sumLo * scaleLo, sumHi * scaleHi);

    /// <summary>Sixteen integer sums in memory gain <paramref name="lo"/> and <paramref name="hi"/>, or start from them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo(int* sums, bool first, Vector256<int> lo, Vector256<int> hi)
    {
        if (!first)
        {
            lo += Vector256.Load(sums);
            hi += Vector256.Load(sums + 8);
        }
        lo.Store(sums);
        hi.Store(sums + 8);
    }

    /// <summary>Asks for one block column of a group <see cref="PrefetchDistance"/> bytes ahead: the hardware prefetcher alone leaves a core well short of the memory's bandwidth.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchAhead(byte* block)
    {
        for (int line = 0; line < InterleavedRows.GroupRows * TFormat.BlockBytes; line += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(block + PrefetchDistance + line);
    }

    /// <summary>Writes the 16 row sums of each of <paramref name="tokens"/> tokens to their output rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSums(float* sums, int tokens, float* y, int yStride)
    {
        for (int t = 0; t < tokens; t++)
        {
            Vector256.Load(sums + 16 * t).Store(y + (long)t * yStride);
            Vector256.Load(sums + 16 * t + 8).Store(y + (long)t * yStride + 8);
        }
    }

    /// <summary>One pair of steps of group g: its weight levels, times each token's activations (q: the block's levels), into that token's sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair<TTile>(byte* block, int g, int p, byte* q0, byte* q1, byte* q2, byte* q3,
        ref Vector256<int> s0l, ref Vector256<int> s0h, ref Vector256<int> s1l, ref Vector256<int> s1h,
        ref Vector256<int> s2l, ref Vector256<int> s2h, ref Vector256<int> s3l, ref Vector256<int> s3h)
        where TTile : struct, ITile
    {
        int n = TTile.Count;
        TFormat.Levels(block, g, p, out var lo0, out var hi0, out var lo1, out var hi1);
        int at0 = TFormat.FirstElement(g, p), at1 = TFormat.SecondElement(g, p);
        Accumulate(q0 + at0, q0 + at1, lo0, hi0, lo1, hi1, ref s0l, ref s0h);
        if (n > 1) Accumulate(q1 + at0, q1 + at1, lo0, hi0, lo1, hi1, ref s1l, ref s1h);
        if (n > 2) Accumulate(q2 + at0, q2 + at1, lo0, hi0, lo1, hi1, ref s2l, ref s2h);
        if (n > 3) Accumulate(q3 + at0, q3 + at1, lo0, hi0, lo1, hi1, ref s3l, ref s3h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(byte* x0At, byte* x1At, Vector256<byte> lo0, Vector256<byte> hi0, Vector256<byte> lo1, Vector256<byte> hi1,
        ref Vector256<int> sl, ref Vector256<int> sh)
    {
        var x0 = Broadcast(x0At);
        var x1 = Broadcast(x1At);
        sl = Dot(Dot(sl, lo0, x0), lo1, x1);
        sh = Dot(Dot(sh, hi0, x0), hi1, x1);
    }

    /// <summary><see cref="AddBlock"/> for row sums kept in memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddBlockAt(float* sums, byte* a, int extras, int blocks, int b,
        Vector256<float> dLo, Vector256<float> dHi, Vector256<float> fLo, Vector256<float> fHi,
        Vector256<int> isumLo, Vector256<int> isumHi, Vector256<int> summsLo, Vector256<int> summsHi)
    {
        var lo = Vector256.Load(sums);
        var hi = Vector256.Load(sums + 8);
        AddBlock(ref lo, ref hi, a, extras, blocks, b, dLo, dHi, fLo, fHi, isumLo, isumHi, summsLo, summsHi);
        lo.Store(sums);
        hi.Store(sums + 8);
    }

    /// <summary>One block's contribution to a token's 16 row sums, with the scalar reference's float steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddBlock(ref Vector256<float> lo, ref Vector256<float> hi, byte* a, int extras, int blocks, int b,
        Vector256<float> dLo, Vector256<float> dHi, Vector256<float> fLo, Vector256<float> fHi,
        Vector256<int> isumLo, Vector256<int> isumHi, Vector256<int> summsLo, Vector256<int> summsHi)
    {
        if (TFormat.BlockSize == 256)
        {
            // sum += ad·d·isum − ad·dmin·summs
            var ad = Vector256.Create(*(float*)(a + b * Q8_KType.BlockLength));
            if (TFormat.HasMin)
            {
                lo += ad * dLo * Vector256.ConvertToSingle(isumLo) - ad * fLo * Vector256.ConvertToSingle(summsLo);
                hi += ad * dHi * Vector256.ConvertToSingle(isumHi) - ad * fHi * Vector256.ConvertToSingle(summsHi);
            }
            else
            {
                lo += ad * dLo * Vector256.ConvertToSingle(isumLo);
                hi += ad * dHi * Vector256.ConvertToSingle(isumHi);
            }
        }
        else
        {
            // sum = fma(d·d_a, isum, sum), then (Q4_1, Q5_1) sum += m·s_a
            float* extra = (float*)(a + extras);
            var da = Vector256.Create(extra[b]);
            lo = Vector256.FusedMultiplyAdd(dLo * da, Vector256.ConvertToSingle(isumLo), lo);
            hi = Vector256.FusedMultiplyAdd(dHi * da, Vector256.ConvertToSingle(isumHi), hi);
            if (TFormat.HasMin)
            {
                var sa = Vector256.Create(extra[blocks + b]);
                lo += fLo * sa;
                hi += fHi * sa;
            }
        }
    }
}

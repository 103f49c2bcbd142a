using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Promptd.Inference.Kernels.Simd;

/// <summary>
/// How the quantized kernel reads one weight type in the interleaved layout
/// (<see cref="InterleavedRows"/>): the unsigned levels of four consecutive elements of 16 rows, the
/// group scales and mins, and the block factors. Offsets are those of the field tables there. Each
/// format is a struct, so the kernel is compiled once per type with these calls inlined.
/// </summary>
internal unsafe interface IQuantFormat
{
    /// <summary>Elements per block (32 or 256).</summary>
    static abstract int BlockSize { get; }

    /// <summary>Bytes of one row's block.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>Elements sharing a scale inside a block (the whole block for the 32-element formats).</summary>
    static abstract int GroupSize { get; }

    /// <summary>value = (level − Offset) · scale.</summary>
    static abstract int Offset { get; }

    /// <summary>Levels are signed bytes stored XOR 0x80 (Q8_0) rather than unsigned levels.</summary>
    static abstract bool Signed { get; }

    /// <summary>K-quants: integer group scales multiply the group sums.</summary>
    static abstract bool GroupScaled { get; }

    /// <summary>A second factor: dmin for K-quants with mins, m for Q4_1/Q5_1.</summary>
    static abstract bool HasMin { get; }

    /// <summary>
    /// Levels of two steps of the group — four consecutive elements each, from
    /// <see cref="FirstElement"/> and <see cref="SecondElement"/> — for rows 0–7 (lo) and 8–15 (hi),
    /// a row per 32-bit lane. A group has GroupSize / 8 pairs.
    /// </summary>
    static abstract void Levels(byte* block, int group, int pair,
        out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1);

    /// <summary>The block element where a pair's first step starts.</summary>
    static abstract int FirstElement(int group, int pair);

    /// <summary>The block element where a pair's second step starts.</summary>
    static abstract int SecondElement(int group, int pair);

    /// <summary>The group's integer scale and min per row (K-quants).</summary>
    static abstract void GroupScales(byte* block, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi);

    /// <summary>The block's d and second factor (dmin or m) per row.</summary>
    static abstract void Factors(byte* block, out Vector256<float> dLo, out Vector256<float> dHi, out Vector256<float> minLo, out Vector256<float> minHi);
}

/// <summary>Loads shared by the formats.</summary>
internal static unsafe class Lanes
{
    /// <summary>A 64-byte piece: 4 bytes of each of 16 rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(byte* p, out Vector256<byte> lo, out Vector256<byte> hi)
    {
        lo = Vector256.Load(p);
        hi = Vector256.Load(p + 32);
    }

    /// <summary>Both nibbles of a 64-byte piece: the low ones (first) and the high ones (second).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BothNibbles(byte* p, out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1)
    {
        var mask = Vector256.Create((byte)0x0F);
        var lo = Vector256.Load(p);
        var hi = Vector256.Load(p + 32);
        lo0 = lo & mask;
        hi0 = hi & mask;
        lo1 = (lo.AsUInt16() >>> 4).AsByte() & mask;
        hi1 = (hi.AsUInt16() >>> 4).AsByte() & mask;
    }

    /// <summary>The low (<paramref name="high"/> false) or high nibbles of a 64-byte piece.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Nibbles(byte* p, bool high, out Vector256<byte> lo, out Vector256<byte> hi)
    {
        var mask = Vector256.Create((byte)0x0F);
        var l = Vector256.Load(p);
        var h = Vector256.Load(p + 32);
        if (high)
        {
            l = (l.AsUInt16() >>> 4).AsByte();
            h = (h.AsUInt16() >>> 4).AsByte();
        }
        lo = l & mask;
        hi = h & mask;
    }

    /// <summary>Bits [shift, shift+width) of every byte of a 64-byte piece, moved to bit <paramref name="to"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Bits(byte* p, int shift, byte mask, int to, out Vector256<byte> lo, out Vector256<byte> hi)
    {
        var m = Vector256.Create((byte)(mask << to));
        lo = ((Vector256.Load((ushort*)p) >>> shift) << to).AsByte() & m;
        hi = ((Vector256.Load((ushort*)(p + 32)) >>> shift) << to).AsByte() & m;
    }

    /// <summary>16 rows' F16 factors (32 bytes, checked finite when interleaved) as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Halves(byte* p, out Vector256<float> lo, out Vector256<float> hi)
    {
        lo = HalfVector.LoadFinite8((ushort*)p);
        hi = HalfVector.LoadFinite8((ushort*)(p + 16));
    }

    /// <summary>
    /// Q5_0/Q5_1 fifth bits: each row's 32-bit lane has bit e for element e; elements 4·step … 4·step+3
    /// become bit 4 of the four bytes of the lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FifthBits(byte* p, int step, out Vector256<byte> lo, out Vector256<byte> hi)
    {
        // Copy the byte holding the step's four bits to all four bytes of its lane, then test one bit per byte.
        var spread = Vector256.Create((byte)0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12, 0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12)
            + Vector256.Create((byte)(step >> 1));
        var bits = Vector256.Create(0x08040201u << (4 * (step & 1))).AsByte();
        lo = Vector256.Equals(Avx2.Shuffle(Vector256.Load(p), spread) & bits, bits) & Vector256.Create((byte)0x10);
        hi = Vector256.Equals(Avx2.Shuffle(Vector256.Load(p + 32), spread) & bits, bits) & Vector256.Create((byte)0x10);
    }
}

// The 32-element block formats: one group per block.

internal readonly unsafe struct Q8_0Format : IQuantFormat
{
    public static int BlockSize => 32;
    public static int BlockBytes => 34;
    public static int GroupSize => 32;
    public static int Offset => 0;
    public static bool Signed => true;
    public static bool GroupScaled => false;
    public static bool HasMin => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Levels(byte* block, int group, int pair, out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1)
    {
        Lanes.Load(block + 32 + 128 * pair, out lo0, out hi0);
        Lanes.Load(block + 96 + 128 * pair, out lo1, out hi1);
    }

    public static int FirstElement(int group, int pair) => 8 * pair;

    public static int SecondElement(int group, int pair) => 8 * pair + 4;

    public static void GroupScales(byte* block, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi) =>
        throw new NotSupportedException();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Factors(byte* block, out Vector256<float> dLo, out Vector256<float> dHi, out Vector256<float> minLo, out Vector256<float> minHi)
    {
        Lanes.Halves(block, out dLo, out dHi);
        minLo = minHi = default;
    }
}

/// <summary>Q4_0: the 4-byte pieces of qs hold elements 4p…4p+3 (low nibbles) and 16+4p… (high nibbles).</summary>
internal readonly unsafe struct Q4_0Format : IQuantFormat
{
    public static int BlockSize => 32;
    public static int BlockBytes => 18;
    public static int GroupSize => 32;
    public static int Offset => 8;
    public static bool Signed => false;
    public static bool GroupScaled => false;
    public static bool HasMin => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Levels(byte* block, int group, int pair, out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1)
        => Lanes.BothNibbles(block + 32 + 64 * pair, out lo0, out hi0, out lo1, out hi1);

    public static int FirstElement(int group, int pair) => 4 * pair;

    public static int SecondElement(int group, int pair) => 16 + 4 * pair;

    public static void GroupScales(byte* block, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi) =>
        throw new NotSupportedException();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Factors(byte* block, out Vector256<float> dLo, out Vector256<float> dHi, out Vector256<float> minLo, out Vector256<float> minHi)
    {
        Lanes.Halves(block, out dLo, out dHi);
        minLo = minHi = default;
    }
}

internal readonly unsafe struct Q4_1Format : IQuantFormat
{
    public static int BlockSize => 32;
    public static int BlockBytes => 20;
    public static int GroupSize => 32;
    public static int Offset => 0;
    public static bool Signed => false;
    public static bool GroupScaled => false;
    public static bool HasMin => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Levels(byte* block, int group, int pair, out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1)
        => Lanes.BothNibbles(block + 64 + 64 * pair, out lo0, out hi0, out lo1, out hi1);

    public static int FirstElement(int group, int pair) => 4 * pair;

    public static int SecondElement(int group, int pair) => 16 + 4 * pair;

    public static void GroupScales(byte* block, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi) =>
        throw new NotSupportedException();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Factors(byte* block, out Vector256<float> dLo, out Vector256<float> dHi, out Vector256<float> minLo, out Vector256<float> minHi)
    {
        Lanes.Halves(block, out dLo, out dHi);
        Lanes.Halves(block + 32, out minLo, out minHi);
    }
}

internal readonly unsafe struct Q5_0Format : IQuantFormat
{
    public static int BlockSize => 32;
    public static int BlockBytes => 22;
    public static int GroupSize => 32;
    public static int Offset => 16;
    public static bool Signed => false;
    public static bool GroupScaled => false;
    public static bool HasMin => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Levels(byte* block, int group, int pair, out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1)
    {
        Lanes.BothNibbles(block + 96 + 64 * pair, out lo0, out hi0, out lo1, out hi1);
        Lanes.FifthBits(block + 32, pair, out var fifthLo, out var fifthHi);
        lo0 |= fifthLo;
        hi0 |= fifthHi;
        Lanes.FifthBits(block + 32, pair + 4, out fifthLo, out fifthHi);
        lo1 |= fifthLo;
        hi1 |= fifthHi;
    }

    public static int FirstElement(int group, int pair) => 4 * pair;

    public static int SecondElement(int group, int pair) => 16 + 4 * pair;

    public static void GroupScales(byte* block, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi) =>
        throw new NotSupportedException();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Factors(byte* block, out Vector256<float> dLo, out Vector256<float> dHi, out Vector256<float> minLo, out Vector256<float> minHi)
    {
        Lanes.Halves(block, out dLo, out dHi);
        minLo = minHi = default;
    }
}

internal readonly unsafe struct Q5_1Format : IQuantFormat
{
    public static int BlockSize => 32;
    public static int BlockBytes => 24;
    public static int GroupSize => 32;
    public static int Offset => 0;
    public static bool Signed => false;
    public static bool GroupScaled => false;
    public static bool HasMin => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Levels(byte* block, int group, int pair, out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1)
    {
        Lanes.BothNibbles(block + 128 + 64 * pair, out lo0, out hi0, out lo1, out hi1);
        Lanes.FifthBits(block + 64, pair, out var fifthLo, out var fifthHi);
        lo0 |= fifthLo;
        hi0 |= fifthHi;
        Lanes.FifthBits(block + 64, pair + 4, out fifthLo, out fifthHi);
        lo1 |= fifthLo;
        hi1 |= fifthHi;
    }

    public static int FirstElement(int group, int pair) => 4 * pair;

    public static int SecondElement(int group, int pair) => 16 + 4 * pair;

    public static void GroupScales(byte* block, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi) =>
        throw new NotSupportedException();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Factors(byte* block, out Vector256<float> dLo, out Vector256<float> dHi, out Vector256<float> minLo, out Vector256<float> minHi)
    {
        Lanes.Halves(block, out dLo, out dHi);
        Lanes.Halves(block + 32, out minLo, out minHi);
    }
}

// The K-quants: 256-element blocks in groups of 32 (Q4_K, Q5_K) or 16 (Q2_K, Q3_K, Q6_K).

/// <summary>The 6-bit scale/min pairs of Q4_K and Q5_K (ggml's get_scale_min_k4), from three 4-byte pieces per row.</summary>
internal static unsafe class ScaleMinK4
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Read(byte* pieces, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi)
    {
        Pair(pieces, 0, group, out scaleLo, out minLo);
        Pair(pieces, 32, group, out scaleHi, out minHi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair(byte* pieces, int half, int j, out Vector256<int> scale, out Vector256<int> min)
    {
        var q0 = Vector256.Load((int*)(pieces + half));        // bytes 0–3
        var q1 = Vector256.Load((int*)(pieces + 64 + half));   // bytes 4–7
        var six = Vector256.Create(63);
        if (j < 4)
        {
            scale = (q0 >>> (8 * j)) & six;
            min = (q1 >>> (8 * j)) & six;
        }
        else
        {
            int k = j - 4;
            var q2 = Vector256.Load((int*)(pieces + 128 + half)); // bytes 8–11
            var low = Vector256.Create(0xF);
            var top = Vector256.Create(0x30);
            scale = ((q2 >>> (8 * k)) & low) | ((q0 >>> (8 * k + 2)) & top);
            min = ((q2 >>> (8 * k + 4)) & low) | ((q1 >>> (8 * k + 2)) & top);
        }
    }
}

/// <summary>Q4_K: d, dmin, 12 scale bytes, then 32 pieces of qs; group g's step j is piece 8·(g/2)+j, nibble g%2.</summary>
internal readonly unsafe struct Q4_KFormat : IQuantFormat
{
    public static int BlockSize => 256;
    public static int BlockBytes => 144;
    public static int GroupSize => 32;
    public static int Offset => 0;
    public static bool Signed => false;
    public static bool GroupScaled => true;
    public static bool HasMin => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Levels(byte* block, int group, int pair, out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1)
    {
        byte* piece = block + 256 + 64 * (8 * (group >> 1) + 2 * pair);
        bool high = (group & 1) != 0;
        Lanes.Nibbles(piece, high, out lo0, out hi0);
        Lanes.Nibbles(piece + 64, high, out lo1, out hi1);
    }

    public static int FirstElement(int group, int pair) => 32 * group + 8 * pair;

    public static int SecondElement(int group, int pair) => 32 * group + 8 * pair + 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GroupScales(byte* block, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi) =>
        ScaleMinK4.Read(block + 64, group, out scaleLo, out scaleHi, out minLo, out minHi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Factors(byte* block, out Vector256<float> dLo, out Vector256<float> dHi, out Vector256<float> minLo, out Vector256<float> minHi)
    {
        Lanes.Halves(block, out dLo, out dHi);
        Lanes.Halves(block + 32, out minLo, out minHi);
    }
}

/// <summary>Q5_K: Q4_K plus 8 pieces of fifth bits: element 32g + 4j + i has bit g of byte i of piece j.</summary>
internal readonly unsafe struct Q5_KFormat : IQuantFormat
{
    public static int BlockSize => 256;
    public static int BlockBytes => 176;
    public static int GroupSize => 32;
    public static int Offset => 0;
    public static bool Signed => false;
    public static bool GroupScaled => true;
    public static bool HasMin => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Levels(byte* block, int group, int pair, out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1)
    {
        byte* piece = block + 768 + 64 * (8 * (group >> 1) + 2 * pair);
        bool high = (group & 1) != 0;
        Lanes.Nibbles(piece, high, out lo0, out hi0);
        Lanes.Nibbles(piece + 64, high, out lo1, out hi1);
        Lanes.Bits(block + 256 + 128 * pair, group, 1, 4, out var fifthLo, out var fifthHi);
        lo0 |= fifthLo;
        hi0 |= fifthHi;
        Lanes.Bits(block + 320 + 128 * pair, group, 1, 4, out fifthLo, out fifthHi);
        lo1 |= fifthLo;
        hi1 |= fifthHi;
    }

    public static int FirstElement(int group, int pair) => 32 * group + 8 * pair;

    public static int SecondElement(int group, int pair) => 32 * group + 8 * pair + 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GroupScales(byte* block, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi) =>
        ScaleMinK4.Read(block + 64, group, out scaleLo, out scaleHi, out minLo, out minHi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Factors(byte* block, out Vector256<float> dLo, out Vector256<float> dHi, out Vector256<float> minLo, out Vector256<float> minHi)
    {
        Lanes.Halves(block, out dLo, out dHi);
        Lanes.Halves(block + 32, out minLo, out minHi);
    }
}

/// <summary>
/// Q6_K: 32 pieces of low nibbles, 16 of 2-bit high parts, 4 of int8 scales, d. Group g (16
/// elements) lies in half h = g/8, quarter k = (g%8)/2; its step j covers l = 16·(g%2) + 4j …:
/// low nibble k/2 of piece 16h + 8·(k%2) + l/4, high bits 2k of piece 8h + l/4.
/// </summary>
internal readonly unsafe struct Q6_KFormat : IQuantFormat
{
    public static int BlockSize => 256;
    public static int BlockBytes => 210;
    public static int GroupSize => 16;
    public static int Offset => 32;
    public static bool Signed => false;
    public static bool GroupScaled => true;
    public static bool HasMin => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Levels(byte* block, int group, int pair, out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1)
    {
        Step(block, group, 2 * pair, out lo0, out hi0);
        Step(block, group, 2 * pair + 1, out lo1, out hi1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(byte* block, int group, int step, out Vector256<byte> lo, out Vector256<byte> hi)
    {
        int h = group >> 3, k = (group & 7) >> 1, piece = 4 * (group & 1) + step;
        Lanes.Nibbles(block + 64 * (16 * h + 8 * (k & 1) + piece), k >= 2, out lo, out hi);
        Lanes.Bits(block + 2048 + 64 * (8 * h + piece), 2 * k, 3, 4, out var highLo, out var highHi);
        lo |= highLo;
        hi |= highHi;
    }

    public static int FirstElement(int group, int pair) => 16 * group + 8 * pair;

    public static int SecondElement(int group, int pair) => 16 * group + 8 * pair + 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GroupScales(byte* block, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi)
    {
        // Signed bytes: shift the wanted byte to the top, then arithmetic-shift it back down.
        byte* piece = block + 3072 + 64 * (group >> 2);
        int up = 24 - 8 * (group & 3);
        scaleLo = (Vector256.Load((int*)piece) << up) >> 24;
        scaleHi = (Vector256.Load((int*)(piece + 32)) << up) >> 24;
        minLo = minHi = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Factors(byte* block, out Vector256<float> dLo, out Vector256<float> dHi, out Vector256<float> minLo, out Vector256<float> minHi)
    {
        Lanes.Halves(block + 3328, out dLo, out dHi);
        minLo = minHi = default;
    }
}

/// <summary>
/// Q3_K: 8 pieces of high-bit masks, 16 of 2-bit low parts, 3 of 6-bit scales, d. Group g lies in
/// half h = g/8 at shift j = (g%8)/2; its step s covers l = 16·(g%2) + 4s …: low bits 2j of piece
/// 8h + l/4, high bit 4h + j of mask piece l/4. level = low + 4·high, value = level − 4.
/// </summary>
internal readonly unsafe struct Q3_KFormat : IQuantFormat
{
    public static int BlockSize => 256;
    public static int BlockBytes => 110;
    public static int GroupSize => 16;
    public static int Offset => 4;
    public static bool Signed => false;
    public static bool GroupScaled => true;
    public static bool HasMin => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Levels(byte* block, int group, int pair, out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1)
    {
        Step(block, group, 2 * pair, out lo0, out hi0);
        Step(block, group, 2 * pair + 1, out lo1, out hi1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(byte* block, int group, int step, out Vector256<byte> lo, out Vector256<byte> hi)
    {
        int h = group >> 3, j = (group & 7) >> 1, piece = 4 * (group & 1) + step;
        Lanes.Bits(block + 512 + 64 * (8 * h + piece), 2 * j, 3, 0, out lo, out hi);
        Lanes.Bits(block + 64 * piece, 4 * h + j, 1, 2, out var highLo, out var highHi);
        lo |= highLo;
        hi |= highHi;
    }

    public static int FirstElement(int group, int pair) => 16 * group + 8 * pair;

    public static int SecondElement(int group, int pair) => 16 * group + 8 * pair + 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GroupScales(byte* block, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi)
    {
        scaleLo = Scale(block + 1536, group);
        scaleHi = Scale(block + 1536 + 32, group);
        minLo = minHi = default;
    }

    /// <summary>Group g's scale: low nibble from byte g (g &lt; 8) or the high nibble of byte g−8, top two bits from byte 8 + g%4; minus 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Scale(byte* pieces, int g)
    {
        int lowByte = g & 7;
        var low = (Vector256.Load((int*)(pieces + 64 * (lowByte >> 2))) >>> (8 * (lowByte & 3) + 4 * (g >> 3))) & Vector256.Create(0xF);
        var high = (Vector256.Load((int*)(pieces + 128)) >>> (8 * (g & 3) + 2 * (g >> 2))) & Vector256.Create(3);
        return (low | (high << 4)) - Vector256.Create(32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Factors(byte* block, out Vector256<float> dLo, out Vector256<float> dHi, out Vector256<float> minLo, out Vector256<float> minHi)
    {
        Lanes.Halves(block + 1728, out dLo, out dHi);
        minLo = minHi = default;
    }
}

/// <summary>Q2_K: 4 pieces of scale bytes (scale low nibble, min high nibble), 16 of 2-bit levels (as Q3_K), d, dmin.</summary>
internal readonly unsafe struct Q2_KFormat : IQuantFormat
{
    public static int BlockSize => 256;
    public static int BlockBytes => 84;
    public static int GroupSize => 16;
    public static int Offset => 0;
    public static bool Signed => false;
    public static bool GroupScaled => true;
    public static bool HasMin => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Levels(byte* block, int group, int pair, out Vector256<byte> lo0, out Vector256<byte> hi0, out Vector256<byte> lo1, out Vector256<byte> hi1)
    {
        int h = group >> 3, j = (group & 7) >> 1;
        byte* piece = block + 256 + 64 * (8 * h + 4 * (group & 1) + 2 * pair);
        Lanes.Bits(piece, 2 * j, 3, 0, out lo0, out hi0);
        Lanes.Bits(piece + 64, 2 * j, 3, 0, out lo1, out hi1);
    }

    public static int FirstElement(int group, int pair) => 16 * group + 8 * pair;

    public static int SecondElement(int group, int pair) => 16 * group + 8 * pair + 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GroupScales(byte* block, int group, out Vector256<int> scaleLo, out Vector256<int> scaleHi, out Vector256<int> minLo, out Vector256<int> minHi)
    {
        byte* piece = block + 64 * (group >> 2);
        int shift = 8 * (group & 3);
        var lo = Vector256.Load((int*)piece) >>> shift;
        var hi = Vector256.Load((int*)(piece + 32)) >>> shift;
        var nibble = Vector256.Create(0xF);
        scaleLo = lo & nibble;
        scaleHi = hi & nibble;
        minLo = (lo >>> 4) & nibble;
        minHi = (hi >>> 4) & nibble;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Factors(byte* block, out Vector256<float> dLo, out Vector256<float> dHi, out Vector256<float> minLo, out Vector256<float> minHi)
    {
        Lanes.Halves(block + 1280, out dLo, out dHi);
        Lanes.Halves(block + 1312, out minLo, out minHi);
    }
}

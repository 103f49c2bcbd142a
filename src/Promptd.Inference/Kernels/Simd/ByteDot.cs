using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Promptd.Inference.Kernels.Simd;

/// <summary>
/// The 8-bit product the quantized kernels are built on: each 32-bit lane of the accumulator gains
/// the sum of four products of unsigned weight levels and signed activation levels. Implementations
/// are structs so that the kernels, generic over them, are compiled once per instruction set.
/// </summary>
internal interface IByteDot
{
    /// <summary>acc + Σ₄ u·a per lane, for levels u ≤ 127.</summary>
    static abstract Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a);

    /// <summary>acc + Σ₄ (w + <see cref="SignedBias"/>)·a per lane, for signed weights w stored as w XOR 0x80 (Q8_0).</summary>
    static abstract Vector256<int> DotSigned(Vector256<int> acc, Vector256<byte> stored, Vector256<sbyte> a);

    /// <summary>What <see cref="DotSigned"/> adds to each weight; the kernel subtracts bias·Σa.</summary>
    static abstract int SignedBias { get; }

    /// <summary>acc + the two products of 16-bit halves per lane, lo·lo + hi·hi (no saturation: the kernel's values are small).</summary>
    static abstract Vector256<int> PairDot(Vector256<int> acc, Vector256<short> a, Vector256<short> b);
}

/// <summary>AVX-VNNI: VPDPBUSD does the four products and the sum in one instruction, without saturation.</summary>
internal readonly struct VnniDot : IByteDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a) => AvxVnni.MultiplyWideningAndAdd(acc, u, a);

    /// <summary>The stored w XOR 0x80 is w + 128, the unsigned operand VPDPBUSD wants.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotSigned(Vector256<int> acc, Vector256<byte> stored, Vector256<sbyte> a) =>
        AvxVnni.MultiplyWideningAndAdd(acc, stored, a);

    public static int SignedBias => 128;

    /// <summary>VPDPWSSD.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> PairDot(Vector256<int> acc, Vector256<short> a, Vector256<short> b) => AvxVnni.MultiplyWideningAndAdd(acc, a, b);
}

/// <summary>
/// AVX2: VPMADDUBSW forms pairs of products as saturating 16-bit sums, VPMADDWD adds the pairs.
/// Levels up to 127 times activations up to 127 cannot saturate; signed weights use their magnitude
/// with the sign moved onto the activation.
/// </summary>
internal readonly struct MaddDot : IByteDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a) =>
        acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, a), Vector256.Create((short)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotSigned(Vector256<int> acc, Vector256<byte> stored, Vector256<sbyte> a)
    {
        var w = (stored ^ Vector256.Create((byte)0x80)).AsSByte();
        return acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(a, w)), Vector256.Create((short)1));
    }

    public static int SignedBias => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> PairDot(Vector256<int> acc, Vector256<short> a, Vector256<short> b) => acc + Avx2.MultiplyAddAdjacent(a, b);
}

/// <summary>How many tokens (or rows) a kernel tile works on at once; a struct, so the count is a constant in each compiled tile.</summary>
internal interface ITile
{
    static abstract int Count { get; }
}

internal readonly struct One : ITile
{
    public static int Count => 1;
}

internal readonly struct Two : ITile
{
    public static int Count => 2;
}

internal readonly struct Three : ITile
{
    public static int Count => 3;
}

internal readonly struct Four : ITile
{
    public static int Count => 4;
}

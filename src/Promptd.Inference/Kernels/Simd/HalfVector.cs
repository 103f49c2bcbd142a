using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Promptd.Inference.Kernels.Simd;

/// <summary>
/// F16 and BF16 conversions on vectors. .NET 10 does not expose the F16C instructions, so F16 is
/// converted with integer operations; the results are exactly those of <see cref="Tensors.HalfFloat"/>
/// (and of F16C): every F16 value, subnormals, infinities and NaN payloads included, and float to
/// F16 rounding to nearest, ties to even.
/// </summary>
internal static unsafe class HalfVector
{
    // Any F16 value: converted as a finite one (FiniteToSingle, its sign put back for −0), then
    // exponent 31 (infinity, NaN), which came out as a large finite number, gets its exponent set.
    private const int InfinityOrNaN = 0x7BFF;           // F16 magnitudes above this are Inf/NaN (NaN made quiet, as F16C does)

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToSingle(Vector256<int> signExtended)
    {
        var shifted = signExtended << 13;
        var value = FiniteToSingle(shifted) | (shifted & Vector256.Create(unchecked((int)0x80000000))).AsSingle();
        var magnitude = signExtended & Vector256.Create(0x7FFF);
        var special = Vector256.GreaterThan(magnitude, Vector256.Create(InfinityOrNaN)) & Vector256.Create(0x7F800000);
        var quiet = Vector256.GreaterThan(magnitude, Vector256.Create(0x7C00)) & Vector256.Create(0x400000);
        return value | (special | quiet).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ToSingle(Vector512<int> signExtended)
    {
        var shifted = signExtended << 13;
        var value = FiniteToSingle(shifted) | (shifted & Vector512.Create(unchecked((int)0x80000000))).AsSingle();
        var magnitude = signExtended & Vector512.Create(0x7FFF);
        var special = Vector512.GreaterThan(magnitude, Vector512.Create(InfinityOrNaN)) & Vector512.Create(0x7F800000);
        var quiet = Vector512.GreaterThan(magnitude, Vector512.Create(0x7C00)) & Vector512.Create(0x400000);
        return value | (special | quiet).AsSingle();
    }

    /// <summary>
    /// Eight finite F16 values at <paramref name="p"/> as floats, by integer steps and one exact
    /// subtraction: infinities and NaNs would come out as large finite numbers, so this serves only
    /// values checked to be finite (the block factors of interleaved weights, F16 weights). Like
    /// <see cref="ToSingle(Vector256{int})"/> it never does arithmetic on a subnormal float: a
    /// multiply with a subnormal input takes a microcode assist on Intel cores (measured 15× slower
    /// per instruction here), and a quarter of a percent of typical F16 weights are subnormal, which
    /// put an assist in about one 16-weight vector in 25.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadFinite8(ushort* p) => FiniteToSingle(Avx2.ConvertToVector256Int32(Vector128.Load((short*)p)) << 13);

    /// <summary>Sixteen finite F16 values (see <see cref="LoadFinite8"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadFinite16(ushort* p) => FiniteToSingle(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p)) << 13);

    // A finite F16 value, sign-extended and shifted left 13 (sign at bit 31, exponent at bits 27..23,
    // mantissa at 22..13), as a float: the exponent rebiased by adding 112 to it. An F16 exponent of
    // 0 (zero, subnormal) has no implicit leading one: rebiased by 113 instead, the float reads
    // ±2^-14·(1 + m/1024), and taking ±2^-14 off leaves ±2^-14·m/1024, exactly (both operands
    // normal). Zero comes out +0 whatever its sign: as a weight or a block factor it is only ever
    // multiplied into sums that start at +0, where −0 and +0 give the same results.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> FiniteToSingle(Vector256<int> shifted)
    {
        var low = Vector256.Equals(shifted & Vector256.Create(0x0F800000), Vector256<int>.Zero);
        var rebiased = (shifted & Vector256.Create(unchecked((int)0x8FFFE000))) + Vector256.ConditionalSelect(low, Vector256.Create(113 << 23), Vector256.Create(112 << 23));
        var implicitOne = rebiased & low & Vector256.Create(unchecked((int)0xFF800000));
        return rebiased.AsSingle() - implicitOne.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> FiniteToSingle(Vector512<int> shifted)
    {
        var low = Vector512.Equals(shifted & Vector512.Create(0x0F800000), Vector512<int>.Zero);
        var rebiased = (shifted & Vector512.Create(unchecked((int)0x8FFFE000))) + Vector512.ConditionalSelect(low, Vector512.Create(113 << 23), Vector512.Create(112 << 23));
        var implicitOne = rebiased & low & Vector512.Create(unchecked((int)0xFF800000));
        return rebiased.AsSingle() - implicitOne.AsSingle();
    }

    /// <summary>Eight F16 values at <paramref name="p"/> as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ushort* p) => ToSingle(Avx2.ConvertToVector256Int32(Vector128.Load((short*)p)));

    /// <summary>Sixteen F16 values at <paramref name="p"/> as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(ushort* p) => ToSingle(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p)));

    /// <summary>Eight BF16 values at <paramref name="p"/> as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBF8(ushort* p) => (Avx2.ConvertToVector256Int32(Vector128.Load(p)).AsInt32() << 16).AsSingle();

    /// <summary>Sixteen BF16 values at <paramref name="p"/> as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadBF16(ushort* p) => (Avx512F.ConvertToVector512Int32(Vector256.Load(p)).AsInt32() << 16).AsSingle();

    /// <summary>
    /// Float to F16 bits (in the low half of each lane), rounding to nearest, ties to even; overflow
    /// to infinity, NaN quiet with its top payload bits — as <c>(Half)value</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> ToHalfBits(Vector256<float> value)
    {
        var u = value.AsInt32();
        var sign = u & Vector256.Create(unchecked((int)0x80000000));
        var magnitude = u ^ sign;

        // Normal results: rebias the exponent, round the 13 dropped bits to nearest even.
        var odd = (magnitude >>> 13) & Vector256<int>.One;
        var normal = (magnitude + Vector256.Create(unchecked((int)0xC8000FFF)) + odd) >>> 13;
        // Subnormal results (below 2^-14): adding 0.5 lines the F16 subnormal step up with a float's
        // last mantissa bit, so the float addition itself rounds to nearest even.
        var subnormal = (magnitude.AsSingle() + Vector256.Create(0.5f)).AsInt32() - Vector256.Create(0x3F000000);
        // Too large for F16: infinity; NaN stays NaN, quiet, with its top mantissa bits.
        var nan = Vector256.Create(0x7E00) | ((magnitude >>> 13) & Vector256.Create(0x1FF));

        var result = Vector256.ConditionalSelect(Vector256.LessThan(magnitude, Vector256.Create(0x38800000)), subnormal, normal);
        result = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x47800000)), Vector256.Create(0x7C00), result);
        result = Vector256.ConditionalSelect(Vector256.GreaterThan(magnitude, Vector256.Create(0x7F800000)), nan, result);
        return result | (sign >>> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> ToHalfBits(Vector512<float> value)
    {
        var u = value.AsInt32();
        var sign = u & Vector512.Create(unchecked((int)0x80000000));
        var magnitude = u ^ sign;
        var odd = (magnitude >>> 13) & Vector512<int>.One;
        var normal = (magnitude + Vector512.Create(unchecked((int)0xC8000FFF)) + odd) >>> 13;
        var subnormal = (magnitude.AsSingle() + Vector512.Create(0.5f)).AsInt32() - Vector512.Create(0x3F000000);
        var nan = Vector512.Create(0x7E00) | ((magnitude >>> 13) & Vector512.Create(0x1FF));
        var result = Vector512.ConditionalSelect(Vector512.LessThan(magnitude, Vector512.Create(0x38800000)), subnormal, normal);
        result = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x47800000)), Vector512.Create(0x7C00), result);
        result = Vector512.ConditionalSelect(Vector512.GreaterThan(magnitude, Vector512.Create(0x7F800000)), nan, result);
        return result | (sign >>> 16);
    }

    /// <summary>Each value rounded to the nearest F16 and back: what ggml multiplies with after converting activations to F16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> RoundToHalf(Vector256<float> value) => ToSingle((ToHalfBits(value) << 16) >> 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> RoundToHalf(Vector512<float> value) => ToSingle((ToHalfBits(value) << 16) >> 16);

    /// <summary>Each value rounded to BF16 as ggml's converter does (nearest even; NaN quiet) and back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> RoundToBF16(Vector256<float> value)
    {
        var u = value.AsInt32();
        var rounded = (u + Vector256.Create(0x7FFF) + ((u >>> 16) & Vector256<int>.One)) & Vector256.Create(unchecked((int)0xFFFF0000));
        var nan = (u | Vector256.Create(0x400000)) & Vector256.Create(unchecked((int)0xFFFF0000));
        var isNaN = Vector256.GreaterThan(u & Vector256.Create(0x7FFFFFFF), Vector256.Create(0x7F800000));
        return Vector256.ConditionalSelect(isNaN, nan, rounded).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> RoundToBF16(Vector512<float> value)
    {
        var u = value.AsInt32();
        var rounded = (u + Vector512.Create(0x7FFF) + ((u >>> 16) & Vector512<int>.One)) & Vector512.Create(unchecked((int)0xFFFF0000));
        var nan = (u | Vector512.Create(0x400000)) & Vector512.Create(unchecked((int)0xFFFF0000));
        var isNaN = Vector512.GreaterThan(u & Vector512.Create(0x7FFFFFFF), Vector512.Create(0x7F800000));
        return Vector512.ConditionalSelect(isNaN, nan, rounded).AsSingle();
    }
}

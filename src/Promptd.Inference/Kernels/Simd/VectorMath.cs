using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Promptd.Inference.Kernels.Simd;

internal static class VectorMath
{
    /// <summary>The largest lane (for non-NaN lanes the order of comparisons does not matter).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalMax(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        return MathF.Max(m[0], m[1]);
    }
}

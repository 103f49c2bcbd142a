using System.Runtime.Intrinsics.X86;
using Promptd.Inference.Kernels.Simd;

namespace Promptd.Inference.Kernels;

/// <summary>Which implementation of the matrix kernels a model runs on.</summary>
public enum KernelPath
{
    /// <summary><see cref="KernelPaths.EnvironmentVariable"/> if set, else the fastest this CPU supports.</summary>
    Auto,

    /// <summary>The plain reference loops (<see cref="ScalarMatrixKernels"/>).</summary>
    Scalar,

    /// <summary>256-bit AVX2 + FMA; 8-bit products with VPMADDUBSW (any x86-64 CPU since 2013).</summary>
    Avx2,

    /// <summary>AVX2 with AVX-VNNI's VPDPBUSD for the 8-bit products.</summary>
    AvxVnni,

    /// <summary>512-bit AVX-512 F/BW/VL for float products, conversions and attention; 8-bit products with AVX-VNNI where present.</summary>
    Avx512,
}

/// <summary>Which kernel paths this CPU runs, and the one a model gets.</summary>
public static class KernelPaths
{
    /// <summary>Forces the path of every model loaded with <see cref="KernelPath.Auto"/>: scalar, avx2, avxvnni or avx512.</summary>
    public const string EnvironmentVariable = "PROMPTD_KERNELS";

    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Auto or KernelPath.Scalar => true,
        KernelPath.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        KernelPath.AvxVnni => Avx2.IsSupported && Fma.IsSupported && AvxVnni.IsSupported,
        KernelPath.Avx512 => Avx2.IsSupported && Fma.IsSupported && Avx512F.IsSupported && Avx512BW.IsSupported && Avx512F.VL.IsSupported,
        _ => false,
    };

    /// <summary>Every concrete path this CPU runs, slowest first (the scalar reference always).</summary>
    public static IReadOnlyList<KernelPath> Available { get; } =
        [.. new[] { KernelPath.Scalar, KernelPath.Avx2, KernelPath.AvxVnni, KernelPath.Avx512 }.Where(IsSupported)];

    /// <summary>The fastest path this CPU runs.</summary>
    public static KernelPath Best => Available[^1];

    /// <summary>
    /// The concrete path for a request: <see cref="KernelPath.Auto"/> becomes the environment
    /// variable's choice or <see cref="Best"/>. A forced path the CPU lacks is a NotSupportedException.
    /// </summary>
    public static KernelPath Resolve(KernelPath requested)
    {
        if (requested == KernelPath.Auto)
        {
            string? forced = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (string.IsNullOrWhiteSpace(forced)) return Best;
            requested = Parse(forced);
            if (requested == KernelPath.Auto) return Best;
        }
        if (!IsSupported(requested))
            throw new NotSupportedException($"kernel path {Name(requested)} is not supported by this CPU (available: {string.Join(", ", Available.Select(Name))})");
        return requested;
    }

    /// <summary>The kernels of a concrete or automatic path.</summary>
    public static IMatrixKernels Create(KernelPath path) => Resolve(path) switch
    {
        KernelPath.Scalar => ScalarMatrixKernels.Instance,
        var simd => SimdMatrixKernels.For(simd),
    };

    /// <summary>Parses scalar, avx2, avxvnni (or avx-vnni), avx512 or auto; ArgumentException otherwise.</summary>
    public static KernelPath Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "auto" => KernelPath.Auto,
        "scalar" => KernelPath.Scalar,
        "avx2" => KernelPath.Avx2,
        "avxvnni" or "avx-vnni" => KernelPath.AvxVnni,
        "avx512" or "avx-512" => KernelPath.Avx512,
        _ => throw new ArgumentException($"unknown kernel path '{name}' (expected auto, scalar, avx2, avxvnni or avx512)"),
    };

    public static string Name(KernelPath path) => path.ToString().ToLowerInvariant();
}

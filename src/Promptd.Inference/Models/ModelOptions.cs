using Promptd.Inference.Kernels;

namespace Promptd.Inference.Models;

/// <summary>How a model is loaded and run.</summary>
public sealed record ModelOptions
{
    /// <summary>The kernels (<see cref="KernelPath.Auto"/>: the PROMPTD_KERNELS environment variable, else the fastest).</summary>
    public KernelPath Kernels { get; init; } = KernelPath.Auto;

    /// <summary>Threads for the matrix work, the calling thread included; null means one per processor.</summary>
    public int? Threads { get; init; }
}

using Promptd.Inference.Kernels;
using Promptd.Inference.Models;

namespace Promptd.Inference.Tests.Support;

/// <summary>Every kernel path this CPU runs (the scalar reference always), for tests that must hold on each.</summary>
public static class KernelPathData
{
    public static IReadOnlyList<KernelPath> Paths => KernelPaths.Available;

    public static TheoryData<KernelPath> All => [.. Paths];

    public static ModelOptions Options(KernelPath path) => new() { Kernels = path };

    /// <summary>Each row of <paramref name="rows"/> once per path, the path as the last argument.</summary>
    public static TheoryData<T1, KernelPath> Each<T1>(IEnumerable<T1> rows)
    {
        var data = new TheoryData<T1, KernelPath>();
        foreach (var row in rows)
            foreach (var path in Paths) data.Add(row, path);
        return data;
    }

    public static TheoryData<T1, T2, KernelPath> Each<T1, T2>(IEnumerable<(T1, T2)> rows)
    {
        var data = new TheoryData<T1, T2, KernelPath>();
        foreach (var (a, b) in rows)
            foreach (var path in Paths) data.Add(a, b, path);
        return data;
    }
}

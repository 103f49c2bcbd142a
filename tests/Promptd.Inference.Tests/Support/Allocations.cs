namespace Promptd.Inference.Tests.Support;

/// <summary>
/// Bytes a piece of code allocates on the calling thread in steady state. The runtime itself may
/// allocate on the thread now and then (a method moving up a JIT tier in the middle of the
/// measurement), so the smallest of a few runs counts: code that allocates per call shows it in
/// every run.
/// </summary>
public static class Allocations
{
    public static long Steady(Action action, int attempts = 3)
    {
        long least = long.MaxValue;
        for (int i = 0; i < attempts && least != 0; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}

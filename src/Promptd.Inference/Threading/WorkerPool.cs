using System.Diagnostics;

namespace Promptd.Inference.Threading;

/// <summary>Work that every thread of a <see cref="WorkerPool"/> runs at once, each taking its own share.</summary>
public abstract class ParallelWork
{
    /// <summary>Runs the share of thread <paramref name="worker"/> (0 is the caller) of <paramref name="workers"/>.</summary>
    public abstract void Run(int worker, int workers);
}

/// <summary>
/// Persistent threads for the forward pass's data-parallel loops. <see cref="Run"/> hands a
/// preallocated <see cref="ParallelWork"/> to every worker and does a share on the calling thread,
/// so a dispatch allocates nothing and costs a few hundred nanoseconds. Between dispatches the
/// workers spin for a while (the next matrix product follows within microseconds while a model
/// generates), then sleep on a semaphore until woken. A pool serves one caller at a time: a caller
/// that finds it busy does the whole work alone, which gives the same results, since work is split
/// into units whose outcome does not depend on the thread that runs them.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    /// <summary>How long an idle worker spins before it sleeps.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000; // 1 ms

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly long[] _allocated; // each worker's GC.GetAllocatedBytesForCurrentThread after its last work
    private ParallelWork? _work;
    private Exception? _failure; // the first exception a worker threw during the current work
    private int _generation;
    private int _pending;
    private int _busy;
    private volatile bool _disposed;

    /// <param name="threads">Threads that run work, the caller included (1 = no extra threads).</param>
    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        Threads = threads;
        _threads = new Thread[threads - 1];
        _wake = new SemaphoreSlim[threads - 1];
        _sleeping = new int[threads - 1];
        _allocated = new long[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            int worker = i;
            _threads[i] = new Thread(() => Loop(worker)) { IsBackground = true, Name = $"promptd-worker-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads that run work, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Bytes the pool's own threads have allocated so far (for tests and benchmarks of steady-state allocation).</summary>
    public long WorkerAllocatedBytes
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _allocated.Length; i++) sum += Volatile.Read(ref _allocated[i]);
            return sum;
        }
    }

    /// <summary>Runs <paramref name="work"/> on every thread and returns when all have finished.</summary>
    public void Run(ParallelWork work)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_threads.Length == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            work.Run(0, 1);
            return;
        }
        try
        {
            _work = work;
            Volatile.Write(ref _pending, _threads.Length);
            Interlocked.Increment(ref _generation); // a full fence: workers that see it see _work
            for (int i = 0; i < _threads.Length; i++)
            {
                if (Interlocked.Exchange(ref _sleeping[i], 0) == 1) _wake[i].Release();
            }
            try
            {
                work.Run(0, Threads);
            }
            finally
            {
                var spin = new SpinWait();
                while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
            }
            if (Interlocked.Exchange(ref _failure, null) is { } failure)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        finally
        {
            _work = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    private void Loop(int worker)
    {
        int seen = 0;
        while (true)
        {
            WaitForWork(worker, seen);
            if (_disposed) return;
            seen = Volatile.Read(ref _generation);
            try
            {
                _work!.Run(worker + 1, Threads);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            finally
            {
                Volatile.Write(ref _allocated[worker], GC.GetAllocatedBytesForCurrentThread());
                Interlocked.Decrement(ref _pending);
            }
        }
    }

    private void WaitForWork(int worker, int seen)
    {
        var spin = new SpinWait();
        long until = Stopwatch.GetTimestamp() + SpinTicks;
        while (Volatile.Read(ref _generation) == seen && !_disposed)
        {
            if (Stopwatch.GetTimestamp() < until)
            {
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            // Announce the sleep, then look once more: a dispatcher that bumped the generation either
            // sees the flag (and releases the semaphore) or is seen here.
            Interlocked.Exchange(ref _sleeping[worker], 1);
            if (Volatile.Read(ref _generation) != seen || _disposed)
            {
                if (Interlocked.Exchange(ref _sleeping[worker], 0) == 0) _wake[worker].Wait(); // consume the dispatcher's release
                return;
            }
            _wake[worker].Wait();
            spin = new SpinWait();
            until = Stopwatch.GetTimestamp() + SpinTicks;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Interlocked.Increment(ref _generation);
        for (int i = 0; i < _threads.Length; i++)
        {
            if (Interlocked.Exchange(ref _sleeping[i], 0) == 1) _wake[i].Release();
        }
        foreach (var thread in _threads) thread.Join();
        foreach (var wake in _wake) wake.Dispose();
    }
}

using Promptd.Core.Runs;

namespace Promptd.Core.Storage;

/// <summary>The persisted event streams of runs, read back for replay (Last-Event-ID, late subscribers).</summary>
public interface IRunEventStore
{
    /// <summary>
    /// Queues an event of a running attempt for writing without waiting, so generation never waits
    /// for the disk. Events are written in the order appended, and only while the run is still
    /// running under <paramref name="leaseOwner"/> (an event racing a cancel is dropped). The
    /// event's time is <see cref="RunEvent.CreatedAt"/> when set, else the time of the call.
    /// </summary>
    void Append(RunEvent draft, string leaseOwner);

    /// <summary>Events of one run with id greater than <paramref name="afterId"/>, in order.</summary>
    Task<IReadOnlyList<RunEvent>> ReadRunAsync(string runId, long afterId, int limit, CancellationToken cancellationToken);

    /// <summary>Events of every run of one thread with id greater than <paramref name="afterId"/>, in order.</summary>
    Task<IReadOnlyList<RunEvent>> ReadThreadAsync(string threadId, long afterId, int limit, CancellationToken cancellationToken);
}

/// <summary>Receives every event right after its transaction commits, in id order (the live hub).</summary>
public interface IRunEventSink
{
    void Publish(RunEvent committed);
}

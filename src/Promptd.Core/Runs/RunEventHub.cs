using System.Threading.Channels;
using Promptd.Core.Storage;

namespace Promptd.Core.Runs;

/// <summary>
/// Live fan-out of committed run events to subscribers of a run or of a thread. Storage publishes
/// here after each commit (one writer, so in id order). Publishing never blocks: a subscriber
/// whose buffer is full is cut off (<see cref="EventSubscription.Overflowed"/>) and catches up
/// from storage, so a slow reader neither slows generation nor loses events.
/// </summary>
public sealed class RunEventHub : IRunEventSink
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<EventSubscription>> _byRun = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<EventSubscription>> _byThread = new(StringComparer.Ordinal);
    private readonly int _bufferSize;

    private long _overflows;

    public RunEventHub(int bufferSize = 4096) => _bufferSize = bufferSize;

    /// <summary>How many times a subscriber fell behind and was switched to catching up from storage.</summary>
    public long Overflows => Interlocked.Read(ref _overflows);

    internal void CountOverflow() => Interlocked.Increment(ref _overflows);

    public EventSubscription Subscribe(EventScope scope)
    {
        var map = scope.IsThread ? _byThread : _byRun;
        var sub = new EventSubscription(this, scope, _bufferSize);
        lock (_lock)
        {
            if (!map.TryGetValue(scope.Id, out var list)) map[scope.Id] = list = [];
            list.Add(sub);
        }
        return sub;
    }

    public void Publish(RunEvent committed)
    {
        lock (_lock)
        {
            if (_byRun.TryGetValue(committed.RunId, out var runSubs)) Deliver(runSubs, committed);
            if (committed.ThreadId is { } t && _byThread.TryGetValue(t, out var threadSubs)) Deliver(threadSubs, committed);
        }
    }

    private static void Deliver(List<EventSubscription> subs, RunEvent e)
    {
        foreach (var s in subs) s.Offer(e);
    }

    internal void Remove(EventSubscription sub)
    {
        var map = sub.Scope.IsThread ? _byThread : _byRun;
        lock (_lock)
        {
            if (map.TryGetValue(sub.Scope.Id, out var list) && list.Remove(sub) && list.Count == 0) map.Remove(sub.Scope.Id);
        }
    }
}

/// <summary>Whose events: one run's, or every run's of one thread.</summary>
public readonly record struct EventScope(string Id, bool IsThread)
{
    public static EventScope Run(string runId) => new(runId, false);
    public static EventScope Thread(string threadId) => new(threadId, true);
}

public sealed class EventSubscription : IDisposable
{
    private readonly RunEventHub _hub;
    private readonly Channel<RunEvent> _channel;
    private volatile bool _overflowed;

    internal EventSubscription(RunEventHub hub, EventScope scope, int bufferSize)
    {
        _hub = hub;
        Scope = scope;
        _channel = Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(bufferSize) { SingleReader = true, SingleWriter = true });
    }

    public EventScope Scope { get; }

    /// <summary>The buffer filled up and later events were not delivered: read them from storage.</summary>
    public bool Overflowed => _overflowed;

    public ChannelReader<RunEvent> Reader => _channel.Reader;

    internal void Offer(RunEvent e)
    {
        if (_overflowed) return;
        if (!_channel.Writer.TryWrite(e))
        {
            _overflowed = true;
            _hub.CountOverflow();
            _channel.Writer.TryComplete();
        }
    }

    public void Dispose()
    {
        _hub.Remove(this);
        _channel.Writer.TryComplete();
    }
}

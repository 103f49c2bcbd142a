using Promptd.Inference.Gguf;
using Promptd.Inference.Models;

namespace Promptd.Core.Engines.Embedded;

/// <summary>
/// Owns the models in memory: loads a model on first use (concurrent first uses share one load),
/// keeps it while generations hold leases, unloads it after <see cref="EmbeddedEngineOptions.KeepAlive"/>
/// of idleness, and accounts memory so a load that would not fit unloads idle models or is refused.
/// </summary>
public sealed class ModelHost : IDisposable
{
    private readonly EmbeddedEngineOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ITimer? _reaper;
    private int _loads;
    private bool _disposed;

    public ModelHost(EmbeddedEngineOptions options, TimeProvider? time = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        if (options.KeepAlive != Timeout.InfiniteTimeSpan)
        {
            var period = TimeSpan.FromTicks(Math.Clamp(options.KeepAlive.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(15).Ticks));
            _reaper = _time.CreateTimer(_ => UnloadIdle(), null, period, period);
        }
    }

    /// <summary>How many loads have completed (a second concurrent request must not add one).</summary>
    public int LoadCount => Volatile.Read(ref _loads);

    public long MemoryBudget => _options.EffectiveMemoryBudget;

    /// <summary>Memory accounted to loaded and loading models.</summary>
    public long MemoryInUse
    {
        get
        {
            lock (_gate) return MemoryInUseLocked(except: null);
        }
    }

    /// <summary>Takes a lease on the model in <paramref name="path"/>, loading it if needed. Dispose the lease when done.</summary>
    public async Task<ModelLease> AcquireAsync(string modelId, string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task loading;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (!_entries.TryGetValue(modelId, out var entry))
                {
                    entry = new Entry(modelId, path);
                    _entries.Add(modelId, entry);
                }
                if (entry.Model is { } model)
                {
                    entry.Leases++;
                    return new ModelLease(this, entry, model);
                }
                // Failures are not cached: the next request tries again (the file may have been replaced).
                entry.Loading ??= Task.Run(() => Load(entry), CancellationToken.None);
                loading = entry.Loading;
            }
            // A caller that gives up does not cancel the load others may be waiting for.
            await loading.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public IReadOnlyList<ModelStatus> Snapshot()
    {
        lock (_gate)
        {
            var list = new List<ModelStatus>(_entries.Count);
            foreach (var e in _entries.Values) list.Add(StatusOf(e));
            return list;
        }
    }

    public ModelStatus? StatusOf(string modelId)
    {
        lock (_gate) return _entries.TryGetValue(modelId, out var e) ? StatusOf(e) : null;
    }

    /// <summary>Unloads a model now if no generation uses it; false when it is busy or not loaded.</summary>
    public bool Unload(string modelId)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(modelId, out var e) && e.Model is not null && e.Leases == 0 && UnloadLocked(e);
        }
    }

    private void Load(Entry entry)
    {
        try
        {
            var options = _options.ForModel(entry.ModelId);
            long need = EstimateBytes(entry.Path, options);
            lock (_gate) Reserve(entry, need);
            LoadedModel loaded;
            try
            {
                loaded = new LoadedModel(entry.ModelId, TransformerModel.Load(entry.Path), options);
            }
            catch
            {
                lock (_gate) entry.MemoryBytes = 0;
                throw;
            }
            lock (_gate)
            {
                entry.Model = loaded;
                entry.Error = null;
                entry.LoadedAt = _time.GetUtcNow();
                entry.IdleSince = _time.GetTimestamp();
                _loads++;
            }
        }
        catch (Exception e)
        {
            var failure = e as EngineException ?? new EngineException(LoadFailureMessage(entry.ModelId, e), retryable: false, e);
            lock (_gate) entry.Error = failure.Message;
            throw failure;
        }
        finally
        {
            lock (_gate) entry.Loading = null;
        }
    }

    private static long EstimateBytes(string path, EmbeddedEngineOptions options)
    {
        // Reads only the header and metadata: the budget is checked before any weight is touched.
        using var file = GgufFile.Open(path);
        var config = ModelConfig.FromMetadata(file.Metadata);
        return file.FileLength + options.MaxSequencesPerModel * LoadedModel.KvBytes(config, LoadedModel.ContextOf(config, options), options.KvCacheType);
    }

    /// <summary>Accounts <paramref name="need"/> bytes to <paramref name="entry"/>, unloading idle models (least recently used first) to make room.</summary>
    private void Reserve(Entry entry, long need)
    {
        long budget = MemoryBudget;
        if (need > budget)
            throw new EngineException($"model '{entry.ModelId}' needs {Gib(need)} GiB but the memory budget is {Gib(budget)} GiB", retryable: false);
        while (MemoryInUseLocked(except: entry) + need > budget)
        {
            Entry? victim = null;
            foreach (var e in _entries.Values)
            {
                if (e.Model is not null && e.Leases == 0 && (victim is null || e.IdleSince < victim.IdleSince)) victim = e;
            }
            if (victim is null)
                throw new EngineException(
                    $"not enough memory to load model '{entry.ModelId}': it needs {Gib(need)} GiB and {Gib(MemoryInUseLocked(except: entry))} GiB " +
                    $"of the {Gib(budget)} GiB budget are used by models that are busy; try again later", retryable: true);
            UnloadLocked(victim);
        }
        entry.MemoryBytes = need;
    }

    private long MemoryInUseLocked(Entry? except)
    {
        long total = 0;
        foreach (var e in _entries.Values)
        {
            if (e != except) total += e.MemoryBytes;
        }
        return total;
    }

    private void UnloadIdle()
    {
        lock (_gate)
        {
            if (_disposed) return;
            foreach (var e in _entries.Values)
            {
                if (e.Model is not null && e.Leases == 0 && _time.GetElapsedTime(e.IdleSince) >= _options.KeepAlive) UnloadLocked(e);
            }
        }
    }

    private static bool UnloadLocked(Entry e)
    {
        e.Model!.Dispose();
        e.Model = null;
        e.MemoryBytes = 0;
        e.LoadedAt = null;
        return true;
    }

    internal void Release(Entry entry)
    {
        lock (_gate)
        {
            if (--entry.Leases == 0) entry.IdleSince = _time.GetTimestamp();
            // A host disposed while generations ran frees each model when its last lease ends.
            if (_disposed && entry.Leases == 0 && entry.Model is not null) UnloadLocked(entry);
        }
    }

    private static ModelStatus StatusOf(Entry e)
    {
        var state = e.Model is not null ? ModelState.Loaded
            : e.Loading is not null ? ModelState.Loading
            : e.Error is not null ? ModelState.Failed
            : ModelState.Available;
        return new ModelStatus(e.ModelId, state, e.MemoryBytes, e.Leases, state == ModelState.Failed ? e.Error : null, e.LoadedAt);
    }

    private static string LoadFailureMessage(string modelId, Exception e) => e switch
    {
        InvalidDataException or NotSupportedException => $"model '{modelId}' cannot be loaded: {e.Message}",
        FileNotFoundException or DirectoryNotFoundException => $"model '{modelId}' is not installed",
        IOException or UnauthorizedAccessException => $"model '{modelId}' cannot be read: {e.Message}",
        _ => $"model '{modelId}' failed to load",
    };

    private static string Gib(long bytes) => (bytes / (1024.0 * 1024 * 1024)).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _reaper?.Dispose();
        lock (_gate)
        {
            _disposed = true;
            foreach (var e in _entries.Values)
            {
                if (e.Model is not null && e.Leases == 0) UnloadLocked(e);
            }
        }
    }

    internal sealed class Entry(string modelId, string path)
    {
        public string ModelId { get; } = modelId;
        public string Path { get; } = path;
        public Task? Loading;
        public LoadedModel? Model;
        public int Leases;
        public long IdleSince;
        public long MemoryBytes;
        public string? Error;
        public DateTimeOffset? LoadedAt;
    }
}

/// <summary>A generation's hold on a loaded model: the model stays loaded until every lease is disposed.</summary>
public sealed class ModelLease : IDisposable
{
    private readonly ModelHost _host;
    private readonly ModelHost.Entry _entry;
    private int _released;

    internal ModelLease(ModelHost host, ModelHost.Entry entry, LoadedModel model)
    {
        _host = host;
        _entry = entry;
        Model = model;
    }

    public LoadedModel Model { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) _host.Release(_entry);
    }
}

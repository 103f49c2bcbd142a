using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Promptd.Core.Runs;
using Promptd.Core.Storage;

namespace Promptd.Storage.Sqlite;

/// <summary>
/// The only connection that writes. Operations queue up and are committed in groups: one
/// transaction (one WAL sync) for everything that arrived meanwhile, each operation in its own
/// savepoint so one failure does not undo the others. A caller's task completes after the commit,
/// and the events an operation produced are published to the sink after the commit, in order —
/// so what a client was told is on disk, and what a subscriber sees is on disk.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private const int MaxBatch = 512;

    private readonly SqliteConnection _connection;
    private readonly IRunEventSink _sink;
    private readonly ILogger _logger;
    private readonly Channel<WriteOp> _queue = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public SqliteWriter(SqliteConnection connection, IRunEventSink sink, ILogger logger)
    {
        _connection = connection;
        _sink = sink;
        _logger = logger;
        _loop = Task.Factory.StartNew(LoopAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Runs <paramref name="work"/> in the next group transaction; completes after it commits.</summary>
    public Task<T> ExecuteAsync<T>(Func<WriteContext, T> work) => Enqueue(new WriteOp<T>(work));

    /// <summary>
    /// Like <see cref="ExecuteAsync{T}"/>, but completes as soon as <paramref name="work"/> has run,
    /// before its transaction is synced. Only for writes whose loss in a crash is harmless and
    /// detected later (a claim: if it never commits, the run simply stays queued and the
    /// attempt's own writes, which check the claim, are dropped). Its events are still published
    /// only after the commit.
    /// </summary>
    public Task<T> ExecuteBeforeCommitAsync<T>(Func<WriteContext, T> work) => Enqueue(new WriteOp<T>(work) { CompletesBeforeCommit = true });

    private Task<T> Enqueue<T>(WriteOp<T> op)
    {
        if (!_queue.Writer.TryWrite(op)) throw new ObjectDisposedException(nameof(SqliteWriter));
        return op.Task;
    }

    /// <summary>Queues <paramref name="work"/> without waiting for it (failures are logged).</summary>
    public void Post(Action<WriteContext> work)
    {
        var op = new WriteOp<bool>(ctx => { work(ctx); return true; }, observed: false);
        _queue.Writer.TryWrite(op);
    }

    private async Task LoopAsync()
    {
        var batch = new List<WriteOp>(MaxBatch);
        var context = new WriteContext(this);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var op)) batch.Add(op);
            Exception? commitError = null;
            try
            {
                Run("BEGIN IMMEDIATE");
                foreach (var op in batch)
                {
                    Run("SAVEPOINT op");
                    context.Begin();
                    try
                    {
                        op.Execute(context);
                        Run("RELEASE op");
                        context.Keep(op);
                        if (op.CompletesBeforeCommit) op.Succeed();
                    }
                    catch (Exception e)
                    {
                        Run("ROLLBACK TO op");
                        Run("RELEASE op");
                        op.Fail(e);
                    }
                }
                Run("COMMIT");
            }
            catch (Exception e)
            {
                commitError = e;
                try
                {
                    Run("ROLLBACK");
                }
                catch (SqliteException)
                {
                    // Already rolled back by SQLite.
                }
            }
            foreach (var op in batch)
            {
                if (commitError is not null)
                {
                    op.Fail(commitError);
                    continue;
                }
                foreach (var e in op.Published) SafePublish(e);
                op.Succeed();
                if (op.Error is { } err && !op.Observed) _logger.LogError(err, "background write failed");
            }
            if (commitError is not null) _logger.LogError(commitError, "write transaction failed");
            batch.Clear();
        }
    }

    private void SafePublish(RunEvent e)
    {
        try
        {
            _sink.Publish(e);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "event subscriber failed");
        }
    }

    private void Run(string sql)
    {
        var cmd = Command(sql);
        cmd.ExecuteNonQuery();
    }

    internal SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var cmd))
        {
            cmd = _connection.CreateCommand();
            cmd.CommandText = sql;
            _commands[sql] = cmd;
        }
        return cmd;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
        foreach (var cmd in _commands.Values) cmd.Dispose();
        await _connection.DisposeAsync();
    }

    internal abstract class WriteOp(bool observed)
    {
        public List<RunEvent> Published { get; } = [];
        public Exception? Error { get; protected set; }
        /// <summary>False for fire-and-forget writes: nobody awaits them, so failures are logged.</summary>
        public bool Observed { get; } = observed;
        public bool CompletesBeforeCommit { get; init; }
        public abstract void Execute(WriteContext context);
        public abstract void Fail(Exception e);
        public abstract void Succeed();
    }

    private sealed class WriteOp<T>(Func<WriteContext, T> work, bool observed = true) : WriteOp(observed)
    {
        private readonly TaskCompletionSource<T> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;
        private bool _done;

        public Task<T> Task => _tcs.Task;

        public override void Execute(WriteContext context)
        {
            _result = work(context);
        }

        public override void Fail(Exception e)
        {
            if (_done) return;
            _done = true;
            Error = e;
            Published.Clear();
            if (Observed) _tcs.TrySetException(e);
        }

        public override void Succeed()
        {
            if (_done) return;
            _done = true;
            _tcs.TrySetResult(_result);
        }
    }
}

/// <summary>What a write operation sees: cached commands on the writer connection, and an outbox of events.</summary>
internal sealed class WriteContext(SqliteWriter writer)
{
    private readonly List<RunEvent> _pending = [];

    /// <summary>A prepared command for <paramref name="sql"/> with its parameters set (null → NULL).</summary>
    public SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = writer.Command(sql);
        foreach (var (name, value) in parameters)
        {
            var v = value ?? DBNull.Value;
            if (cmd.Parameters.Contains(name)) cmd.Parameters[name].Value = v;
            else cmd.Parameters.AddWithValue(name, v);
        }
        return cmd;
    }

    public int Execute(string sql, params (string Name, object? Value)[] parameters) => Command(sql, parameters).ExecuteNonQuery();

    /// <summary>Publishes <paramref name="e"/> after the transaction commits, unless this operation fails.</summary>
    public void Publish(RunEvent e) => _pending.Add(e);

    internal void Begin() => _pending.Clear();

    internal void Keep(SqliteWriter.WriteOp op)
    {
        op.Published.AddRange(_pending);
        _pending.Clear();
    }
}

using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Promptd.Core.Storage;

namespace Promptd.Storage.Sqlite;

public sealed class SqliteStorageOptions
{
    /// <summary>The database file (created with its folder when missing).</summary>
    public required string Path { get; init; }

    /// <summary>
    /// FULL (default) syncs the WAL on every commit: acknowledged writes survive a power loss too.
    /// NORMAL syncs only at checkpoints: still safe against a killed process, faster on slow disks.
    /// </summary>
    public bool SynchronousFull { get; init; } = true;
}

/// <summary>
/// Promptd's state in one SQLite file in WAL mode: one writer connection committing in groups
/// (<see cref="SqliteWriter"/>), pooled connections for reads that never wait for the writer.
/// </summary>
public sealed class SqliteStorage : IPromptdStorage
{
    private readonly SqliteWriter _writer;
    private readonly string _readConnectionString;

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _checkpoints;
    private readonly ILogger _logger;

    private SqliteStorage(SqliteWriter writer, string readConnectionString, ILogger logger)
    {
        _writer = writer;
        _readConnectionString = readConnectionString;
        _logger = logger;
        _checkpoints = Task.Run(CheckpointLoopAsync);
        Runs = new SqliteRunStore(this, writer);
        Events = new SqliteRunEventStore(this, writer);
        Threads = new SqliteThreadStore(this, writer);
        Users = new SqliteUserStore(this, writer);
        Templates = new SqliteTemplateStore(this, writer);
        TemplateRuns = new SqliteTemplateRunStore(this, writer);
        KnowledgeBases = new SqliteKnowledgeBaseStore(this, writer);
        KnowledgeIndex = new SqliteKnowledgeIndexStore(this, writer);
    }

    public IRunStore Runs { get; }
    public IRunEventStore Events { get; }
    public IThreadStore Threads { get; }
    public IUserStore Users { get; }
    public ITemplateStore Templates { get; }
    public ITemplateRunStore TemplateRuns { get; }
    public IKnowledgeBaseStore KnowledgeBases { get; }
    public Promptd.Core.Knowledge.Index.IKnowledgeIndexStore KnowledgeIndex { get; }

    /// <summary>Opens (creating and migrating when needed) the database; committed events go to <paramref name="sink"/>.</summary>
    public static SqliteStorage Open(SqliteStorageOptions options, IRunEventSink sink, ILogger logger)
    {
        var full = System.IO.Path.GetFullPath(options.Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var writeCs = new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString();
        var readCs = new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWrite, Pooling = true }.ToString();

        var connection = new SqliteConnection(writeCs);
        connection.Open();
        Pragma(connection, "PRAGMA journal_mode=WAL");
        Pragma(connection, options.SynchronousFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        Pragma(connection, "PRAGMA busy_timeout=10000");
        Pragma(connection, "PRAGMA temp_store=MEMORY");
        // Checkpoints run on a background connection (see CheckpointLoopAsync), not inside the
        // writer's commits, where they would stall every queued write behind a copy and a sync.
        Pragma(connection, "PRAGMA wal_autocheckpoint=0");
        Migrations.Apply(connection);
        return new SqliteStorage(new SqliteWriter(connection, sink, logger), readCs, logger);
    }

    private static void Pragma(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    internal async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var c = new SqliteConnection(_readConnectionString);
        await c.OpenAsync(cancellationToken);
        return c;
    }

    /// <summary>Runs a query on a pooled read connection and maps every row.</summary>
    internal async Task<IReadOnlyList<T>> ReadAsync<T>(
        string sql, Func<SqliteDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var c = await OpenReaderAsync(cancellationToken);
        await using var cmd = c.Command(sql, parameters);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        var list = new List<T>();
        while (await r.ReadAsync(cancellationToken)) list.Add(map(r));
        return list;
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        await using var c = await OpenReaderAsync(cancellationToken);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT 1";
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken))! == 1;
    }

    /// <summary>
    /// Copies the WAL back into the database twice a second without blocking the writer or readers
    /// (PASSIVE); SQLite restarts the WAL from its beginning once everything in it is copied.
    /// </summary>
    private async Task CheckpointLoopAsync()
    {
        try
        {
            await using var c = await OpenReaderAsync(_stop.Token);
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(500, _stop.Token);
                await using var cmd = c.Command("PRAGMA wal_checkpoint(PASSIVE)");
                await cmd.ExecuteNonQueryAsync(_stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "WAL checkpoints stopped");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
            await _checkpoints;
        }
        await _writer.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }
}

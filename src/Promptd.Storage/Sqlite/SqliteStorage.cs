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

    private SqliteStorage(SqliteWriter writer, string readConnectionString)
    {
        _writer = writer;
        _readConnectionString = readConnectionString;
        Runs = new SqliteRunStore(this, writer);
        Events = new SqliteRunEventStore(this, writer);
        Threads = new SqliteThreadStore(this, writer);
        Users = new SqliteUserStore(this, writer);
    }

    public IRunStore Runs { get; }
    public IRunEventStore Events { get; }
    public IThreadStore Threads { get; }
    public IUserStore Users { get; }

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
        Migrations.Apply(connection);
        return new SqliteStorage(new SqliteWriter(connection, sink, logger), readCs);
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

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }
}

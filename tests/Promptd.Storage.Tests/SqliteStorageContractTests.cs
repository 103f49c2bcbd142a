using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Promptd.Core.Storage;
using Promptd.Storage.Sqlite;

namespace Promptd.Storage.Tests;

public sealed class SqliteStorageContractTests : StorageContractTests
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "promptd-storage-tests", Guid.NewGuid().ToString("N"), "promptd.db");

    protected override Task<IPromptdStorage> OpenAsync(IRunEventSink sink) =>
        Task.FromResult<IPromptdStorage>(SqliteStorage.Open(new SqliteStorageOptions { Path = _path }, sink, NullLogger.Instance));

    [Fact]
    public async Task The_file_is_in_WAL_mode_and_reopening_keeps_the_data_and_applies_no_migration_twice()
    {
        await Storage.Users.CreateUserAsync(new Core.Users.User { Id = "kept", Name = "k", CreatedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        await Storage.DisposeAsync();
        var reopened = SqliteStorage.Open(new SqliteStorageOptions { Path = _path }, Sink, NullLogger.Instance);
        Storage = reopened;
        Assert.NotNull(await reopened.Users.GetUserAsync("kept", CancellationToken.None));

        using var c = new SqliteConnection($"Data Source={_path};Pooling=False");
        c.Open();
        using var mode = c.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string)mode.ExecuteScalar()!);
        using var versions = c.CreateCommand();
        versions.CommandText = "SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations";
        using var r = versions.ExecuteReader();
        r.Read();
        Assert.Equal(r.GetInt64(0), r.GetInt64(1));
    }

    [Fact]
    public async Task A_database_from_a_newer_version_is_refused_with_a_clear_message()
    {
        await Storage.DisposeAsync();
        using (var c = new SqliteConnection($"Data Source={_path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'x')";
            cmd.ExecuteNonQuery();
        }
        var e = Assert.Throws<InvalidOperationException>(() => SqliteStorage.Open(new SqliteStorageOptions { Path = _path }, Sink, NullLogger.Instance));
        Assert.Contains("newer than this build", e.Message);
        Storage = SqliteStorage.Open(new SqliteStorageOptions { Path = _path + ".fresh" }, Sink, NullLogger.Instance);
    }
}

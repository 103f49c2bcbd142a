using Microsoft.Extensions.Logging.Abstractions;
using Promptd.Core.Storage;
using Promptd.Storage.Sqlite;

namespace Promptd.Storage.Tests;

public sealed class SqliteHyperleapStorageContractTests : HyperleapStorageContractTests
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "promptd-storage-tests", Guid.NewGuid().ToString("N"), "promptd.db");

    protected override Task<IPromptdStorage> OpenAsync(IRunEventSink sink) =>
        Task.FromResult<IPromptdStorage>(SqliteStorage.Open(new SqliteStorageOptions { Path = _path }, sink, NullLogger.Instance));
}

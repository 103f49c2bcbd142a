using Promptd.Core.Scheduling;
using Promptd.Server;

namespace Promptd.Server.Tests.Support;

/// <summary>
/// A real Promptd (Kestrel on 127.0.0.1, a SQLite file in a fresh temp folder) started in this
/// process, with short timings so tests stay fast and the scripted fault engines enabled.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-0123456789";

    private TestServer(PromptdServer server, string dataDirectory, PromptdServerOptions options)
    {
        Server = server;
        DataDirectory = dataDirectory;
        Options = options;
        BaseUrl = server.Urls[0].TrimEnd('/');
        Admin = new Api(BaseUrl, AdminKey);
    }

    public PromptdServer Server { get; }
    public PromptdServerOptions Options { get; }
    public string DataDirectory { get; }
    public string BaseUrl { get; }

    /// <summary>A client authenticated as the admin.</summary>
    public Api Admin { get; }

    public static PromptdServerOptions DefaultOptions(string dataDirectory) => new()
    {
        DataDirectory = dataDirectory,
        Urls = "http://127.0.0.1:0",
        AdminKey = AdminKey,
        Heartbeat = TimeSpan.FromMilliseconds(300),
        SyncTimeout = TimeSpan.FromSeconds(20),
        ScriptedEngines = true,
        Console = TextWriter.Null,
        Scheduler = new SchedulerOptions
        {
            DefaultConcurrency = 1,
            ConcurrencyByModel = { ["promptd/echo"] = 8 },
            LeaseDuration = TimeSpan.FromSeconds(3),
            BackoffBase = TimeSpan.FromMilliseconds(20),
            BackoffMax = TimeSpan.FromMilliseconds(200),
            AttemptTimeout = TimeSpan.FromSeconds(60),
        },
    };

    public static async Task<TestServer> StartAsync(Func<PromptdServerOptions, PromptdServerOptions>? configure = null, string? dataDirectory = null)
    {
        dataDirectory ??= TempDirectory.Create();
        var options = DefaultOptions(dataDirectory);
        if (configure is not null) options = configure(options);
        var server = await PromptdServer.StartAsync(options);
        return new TestServer(server, dataDirectory, options);
    }

    /// <summary>Creates a non-admin user and returns a client with their key.</summary>
    public async Task<(Api Client, string UserId)> CreateUserAsync(string name = "user")
    {
        var r = await Admin.PostAsync("/admin/users", new { name });
        r.ExpectStatus(201);
        return (new Api(BaseUrl, r.Json.GetProperty("apiKey").GetProperty("key").GetString()!), r.Json.GetProperty("user").GetProperty("id").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Server.DisposeAsync();
    }
}

public static class TempDirectory
{
    public static string Create()
    {
        var path = Path.Combine(Path.GetTempPath(), "promptd-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>One server shared by the tests of a class (they use separate users, threads or ids).</summary>
public class ServerFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    protected virtual PromptdServerOptions Configure(PromptdServerOptions options) => options;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(Configure);

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

using System.Net.Http.Json;
using System.Text.Json;
using Promptd.Core.Scheduling;
using Promptd.Server;

namespace Promptd.Bench;

/// <summary>A real server (Kestrel on 127.0.0.1, SQLite in a temp folder) and an HTTP client for the admin.</summary>
internal sealed class BenchServer : IAsyncDisposable
{
    public const string AdminKey = "bench-admin-key-0123456789";

    private BenchServer(PromptdServer server, string data)
    {
        Server = server;
        Data = data;
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(server.Urls[0]) };
        Http.DefaultRequestHeaders.Add("x-hl-api-key", AdminKey);
    }

    public PromptdServer Server { get; }
    public string Data { get; }
    public HttpClient Http { get; }

    public static async Task<BenchServer> StartAsync(bool synchronousFull, bool paused, int echoConcurrency)
    {
        var data = Path.Combine(Path.GetTempPath(), "promptd-bench", Guid.NewGuid().ToString("N"));
        var scheduler = new SchedulerOptions { Paused = paused, ConcurrencyByModel = { ["promptd/echo"] = echoConcurrency } };
        var server = await PromptdServer.StartAsync(new PromptdServerOptions
        {
            DataDirectory = data, Urls = "http://127.0.0.1:0", AdminKey = AdminKey, SynchronousFull = synchronousFull,
            Scheduler = scheduler, Console = TextWriter.Null,
        });
        return new BenchServer(server, data);
    }

    public async Task<JsonElement> PostAsync(string path, object body)
    {
        using var r = await Http.PostAsJsonAsync(path, body);
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>())!;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

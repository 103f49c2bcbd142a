using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Promptd.Core;
using Promptd.Core.Runs;

namespace Promptd.Bench;

/// <summary>
/// List latency over HTTP on a database of N prompts of one user (the scheduler paused, so they
/// stay queued), for the common query shapes. Each query runs 2,000 times after a warm-up.
/// </summary>
internal static class ListBenchmark
{
    private const int Iterations = 2000;

    public static async Task RunAsync(int n)
    {
        await using var bench = await BenchServer.StartAsync(synchronousFull: true, paused: true, echoConcurrency: 1);
        // The prompts belong to an ordinary user, who lists them (admins list everyone's: one row below).
        var created = await bench.PostAsync("/admin/users", new { name = "bench" });
        var me = created.GetProperty("user").GetProperty("id").GetString()!;
        using var user = new HttpClient { BaseAddress = bench.Http.BaseAddress };
        user.DefaultRequestHeaders.Add("x-hl-api-key", created.GetProperty("apiKey").GetProperty("key").GetString());
        var seed = Stopwatch.StartNew();
        await SeedAsync(bench, me, n);
        Console.WriteLine($"(seeded {n:N0} prompts in {seed.Elapsed.TotalSeconds:N1} s)");

        string[] statuses = ["scheduled", "canceled", "completed"];
        var cases = new (string Name, Func<int, object> Query)[]
        {
            ("no filter, createdAt asc, limit 20", _ => new { }),
            ("no filter, createdAt desc, limit 100", _ => new { orderBys = new[] { new { field = "createdAt", desc = true } }, limit = 100 }),
            ("status equals (80 %, 20 %, 0 % match)", i => new { filters = new[] { Filter("status", "equals", statuses[i % 3]) } }),
            ("modelId equals + prompt startsWith", i => new { filters = new[] { Filter("modelId", "equals", "promptd/echo"), Filter("prompt", "startsWith", $"question {i % 10}") } }),
            ("prompt containsSubstring (1 in 7 match)", _ => new { filters = new[] { Filter("prompt", "containsSubstring", "topic-3") } }),
            ("threadId isInList (3 threads)", i => new { filters = new[] { new { fields = new[] { "threadId" }, op = "isInList", values = new[] { $"t-{i % 50}", $"t-{(i + 1) % 50}", $"t-{(i + 2) % 50}" } } } }),
            ("page 50 via cursor, createdAt desc", _ => new { orderBys = new[] { new { field = "createdAt", desc = true } }, jsonAfter = _cursor }),
            ("status equals + count", i => new { filters = new[] { Filter("status", "equals", statuses[i % 3]) }, count = true }),
        };
        _cursor = await CursorAtPageAsync(user, 50);
        foreach (var (name, query) in cases) await MeasureAsync(user, n, name, query);
        await MeasureAsync(bench.Http, n, "admin (all users): status equals", i => new { filters = new[] { Filter("status", "equals", statuses[i % 3]) } });
    }

    private static async Task MeasureAsync(HttpClient http, int n, string name, Func<int, object> query)
    {
        for (var i = 0; i < 100; i++) await PostAsync(http, query(i));
        var times = new double[Iterations];
        for (var i = 0; i < Iterations; i++)
        {
            var t = Stopwatch.GetTimestamp();
            await PostAsync(http, query(i));
            times[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        }
        Array.Sort(times);
        Console.WriteLine($"| list, {n:N0} prompts | {name} | p50 {times[Iterations / 2]:N2} ms | p99 {times[Iterations * 99 / 100]:N2} ms |");
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, object query)
    {
        using var r = await http.PostAsJsonAsync("/prompt-svc/prompts", new { query });
        r.EnsureSuccessStatusCode();
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string? _cursor;

    private static object Filter(string field, string op, string value) => new { fields = new[] { field }, op, values = new[] { value } };

    private static async Task<string> CursorAtPageAsync(HttpClient http, int page)
    {
        string? after = null;
        for (var p = 0; p < page; p++)
        {
            var r = await PostAsync(http, new { orderBys = new[] { new { field = "createdAt", desc = true } }, jsonAfter = after });
            after = JsonSerializer.Serialize(r.GetProperty("after"));
        }
        return after!;
    }

    /// <summary>Inserts through the storage interface (the same writes as the API, without HTTP), with a spread of field values.</summary>
    private static async Task SeedAsync(BenchServer bench, string userId, int n)
    {
        var runs = bench.Server.Services.Storage.Runs;
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        const int batch = 2000;
        for (var b = 0; b < n; b += batch)
        {
            var tasks = new List<Task>(batch);
            var ids = new List<string>(batch / 5);
            for (var i = b; i < Math.Min(n, b + batch); i++)
            {
                var id = Ids.New();
                if (i % 5 == 4) ids.Add(id);
                var at = Timestamps.Truncate(start.AddMilliseconds(i / 4));
                tasks.Add(runs.SubmitAsync(new Run
                {
                    Id = id, Kind = RunKinds.QueuedPrompt, UserId = userId, ThreadId = i % 3 == 0 ? $"t-{i % 50}" : null,
                    ModelId = i % 2 == 0 ? "promptd/echo" : "promptd/echo/5ms",
                    Input = new RunInput { Prompt = $"question {i % 10} about topic-{i % 7}" }, Status = RunStatus.Scheduled,
                    MaxRetries = 3, CreatedAt = at, UpdatedAt = at,
                }, CancellationToken.None));
            }
            await Task.WhenAll(tasks);
            // One in five is canceled, so status filters have something to tell apart.
            await Task.WhenAll(ids.Select(id => runs.CancelAsync(id, DateTimeOffset.UtcNow)));
        }
    }
}

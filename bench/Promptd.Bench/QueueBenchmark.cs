using System.Diagnostics;

namespace Promptd.Bench;

/// <summary>
/// Enqueue + complete throughput: N prompts for the zero-cost engine (promptd/echo, a one-word
/// answer) posted over HTTP by concurrent clients (64 unless given); the clock stops when the last is completed.
/// Every prompt is a full run: insert, claim, started/delta/completed events, completion.
/// </summary>
internal static class QueueBenchmark
{
    public static async Task RunAsync(int n, int clients)
    {
        foreach (var full in new[] { true, false })
        {
            await using var bench = await BenchServer.StartAsync(synchronousFull: full, paused: false, echoConcurrency: 128);
            await WarmUpAsync(bench);
            var sw = Stopwatch.StartNew();
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) is var i && i < n)
                    await bench.PostAsync("/prompt-svc/prompt", new { prompt = "hello", modelId = "promptd/echo" });
            }));
            var enqueued = sw.Elapsed;
            while (true)
            {
                var (waiting, active) = bench.Server.Services.Scheduler.Counts();
                if (waiting == 0 && active == 0) break;
                await Task.Delay(2);
            }
            var done = sw.Elapsed;
            var completed = await bench.PostAsync("/prompt-svc/prompts", new
            {
                query = new { filters = new[] { new { fields = new[] { "status" }, op = "equals", values = new[] { "completed" } } }, count = true, limit = 1 },
            });
            var count = completed.GetProperty("count").GetInt64();
            if (count != n + 10) throw new InvalidOperationException($"expected {n + 10} completed prompts, found {count}");
            Console.WriteLine($"| queue, synchronous={(full ? "FULL" : "NORMAL")} | {n:N0} prompts, {clients} clients | " +
                $"enqueue {n / enqueued.TotalSeconds:N0}/s | enqueue+complete {n / done.TotalSeconds:N0} prompts/s ({done.TotalSeconds:N2} s) |");
        }
    }

    private static async Task WarmUpAsync(BenchServer bench)
    {
        for (var i = 0; i < 10; i++) await bench.PostAsync("/prompt-svc/prompt", new { prompt = "warm", modelId = "promptd/echo", sync = true });
    }
}

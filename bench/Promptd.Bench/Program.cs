using Promptd.Bench;

// Promptd benchmarks: `queue` (enqueue + complete throughput on the zero-cost engine),
// `list` (list query latency over 100,000 prompts), `hyperleap-sse` (SSE path overhead), `kernels`
// (one thread's matrix-product throughput per kernel path). Prints Markdown rows for docs/benchmarks.md.
var what = args.Length > 0 ? args[0] : "all";
if (what is "queue" or "all")
{
    await QueueBenchmark.RunAsync(
        args.Length > 1 && what == "queue" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20_000,
        args.Length > 2 && what == "queue" ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 64);
}
if (what is "list" or "all") await ListBenchmark.RunAsync(args.Length > 1 && what == "list" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000);
if (what is "hyperleap-sse")
{
    await HyperleapSseBenchmark.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 12,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 64,
        args.Length > 3 ? args[3] : null);
}
if (what is "kernels")
{
    KernelBenchmark.Run(
        args.Length > 1 ? args[1] : "q4_0",
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1,
        args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 7);
}
if (what is not ("queue" or "list" or "all" or "hyperleap-sse" or "kernels"))
{
    Console.Error.WriteLine("usage: Promptd.Bench [queue [N [CLIENTS]] | list [N] | hyperleap-sse [ROUNDS [TOKENS [MODEL.gguf]]] | kernels [TYPE [TOKENS [ROUNDS]]] | all]");
    return 2;
}
return 0;

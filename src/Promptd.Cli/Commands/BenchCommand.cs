using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Promptd.Inference.Benchmarks;
using Promptd.Inference.Gguf;
using Promptd.Inference.Kernels;
using Promptd.Inference.Models;
using Promptd.Inference.Synthetic;

namespace Promptd.Cli.Commands;

/// <summary>
/// <c>promptd bench</c>: the embedded engine's prompt and generation speed on a GGUF file (or a
/// synthetic model of a named shape and type, written once with the project's writer and cached),
/// measured like llama-bench (pp: the prompt in one batch; tg: tokens one at a time), with memory
/// and allocation per token. <c>--json</c> prints one JSON object.
/// </summary>
internal static class BenchCommand
{
    public const string Verb = "bench";
    public const string Summary = "measure the embedded engine's tokens/s (--model FILE | --synthetic SHAPE --type T) [--json]";
    private const string Usage =
        "usage: promptd bench (--model FILE | --synthetic tinyllama-1.1b --type q4_0 [--seed N] [--cache-dir DIR])\n" +
        "                     [--prompt-tokens 64] [--gen-tokens 32] [--threads N] [--concurrency N [--executor]] [--repeats 5]\n" +
        "                     [--kernels auto|scalar|avx2|avxvnni|avx512] [--kv f16|f32] [--json]";

    private sealed record Options(
        string? Model, string? Synthetic, GgmlType Type, int Seed, string CacheDirectory,
        int PromptTokens, int GenerationTokens, int Threads, int Concurrency, bool Executor, int Repeats,
        KernelPath Kernels, KvCacheType Kv, bool Json);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Any(a => a is "-h" or "--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var options = Parse(args);
        void Progress(string message) => Console.Error.WriteLine($"promptd bench: {message}");
        try
        {
            string path = options.Model ?? SyntheticModelCache.GetOrCreate(options.Synthetic!, options.Type, options.Seed, options.CacheDirectory, Progress);
            long loadStart = Stopwatch.GetTimestamp();
            using var model = TransformerModel.Load(path, new ModelOptions { Kernels = options.Kernels, Threads = options.Threads });
            double loadSeconds = Stopwatch.GetElapsedTime(loadStart).TotalSeconds;
            var benchmarkOptions = new EngineBenchmarkOptions
            {
                PromptTokens = options.PromptTokens,
                GenerationTokens = options.GenerationTokens,
                Repeats = options.Repeats,
                Concurrency = options.Concurrency,
                ThroughExecutor = options.Executor,
                KvCacheType = options.Kv,
            };
            var result = await EngineBenchmark.RunAsync(model, benchmarkOptions);
            using var process = Process.GetCurrentProcess();
            process.Refresh();
            var report = new Report(Path.GetFullPath(path), new FileInfo(path).Length, model.Config.Architecture.Name + " " + string.Join("/", model.WeightTypes), loadSeconds, result,
                process.WorkingSet64, process.PeakWorkingSet64, options.Executor);
            if (options.Json) Console.WriteLine(JsonSerializer.Serialize(report, JsonOptions));
            else PrintTable(report);
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or UnauthorizedAccessException or ArgumentException)
        {
            Console.Error.WriteLine($"promptd bench: {e.Message}");
            return 1;
        }
    }

    /// <summary>Everything one run prints (the JSON object's fields).</summary>
    private sealed record Report(
        string Model, long FileBytes, string WeightType, double LoadSeconds, EngineBenchmarkResult Result,
        long RssBytes, long PeakRssBytes, [property: System.Text.Json.Serialization.JsonIgnore] bool Executor = false);

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static void PrintTable(Report r)
    {
        var x = r.Result;
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine($"model        {r.Model} ({r.WeightType}, {r.FileBytes / 1048576.0:F1} MiB)");
        Console.WriteLine($"kernels      {x.Kernels}, {x.Threads} threads, loaded in {r.LoadSeconds:F2} s");
        if (!r.Executor && x.Concurrency == 1)
        {
            Console.WriteLine(string.Create(c, $"pp{x.PromptTokens,-8} {x.PromptTokensPerSecond,8:F1} tokens/s  (median of {x.PromptRuns.Length}: {string.Join(" ", x.PromptRuns.Select(v => v.ToString("F1", c)))})"));
            Console.WriteLine(string.Create(c, $"tg{x.GenerationTokens,-8} {x.GenerationTokensPerSecond,8:F1} tokens/s  (median of {x.GenerationRuns.Length}: {string.Join(" ", x.GenerationRuns.Select(v => v.ToString("F1", c)))})"));
        }
        else
        {
            Console.WriteLine(string.Create(c, $"concurrency {x.Concurrency}: prompt {x.PromptTokensPerSecond:F1} tokens/s, generation {x.GenerationTokensPerSecond:F1} tokens/s in all (median of {x.GenerationRuns.Length}: {string.Join(" ", x.GenerationRuns.Select(v => v.ToString("F1", c)))})"));
        }
        Console.WriteLine($"memory       RSS {r.RssBytes / 1048576.0:F0} MiB, peak {r.PeakRssBytes / 1048576.0:F0} MiB (file {r.FileBytes / 1048576.0:F0} MiB + KV {x.KvCacheBytes / 1048576.0:F0} MiB)");
        Console.WriteLine(string.Create(c, $"allocation   {x.AllocatedBytesPerToken:F1} bytes per generated token"));
    }

    private static Options Parse(string[] args)
    {
        string? model = null, synthetic = null, type = null, cache = null;
        int seed = 1, prompt = 64, generation = 32, threads = Environment.ProcessorCount, concurrency = 1, repeats = 5;
        var kernels = KernelPath.Auto;
        var kv = KvCacheType.F16;
        bool json = false, executor = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{args[i]} needs a value");
            int Number(int min)
            {
                string name = args[i], text = Value();
                if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min)
                    throw new UsageException($"{name} must be a whole number of at least {min}, not '{text}'");
                return n;
            }
            switch (args[i])
            {
                case "--model": model = Value(); break;
                case "--synthetic": synthetic = Value(); break;
                case "--type": type = Value(); break;
                case "--seed": seed = Number(0); break;
                case "--cache-dir": cache = Value(); break;
                case "--prompt-tokens": prompt = Number(1); break;
                case "--gen-tokens": generation = Number(1); break;
                case "--threads": threads = Number(1); break;
                case "--concurrency": concurrency = Number(1); break;
                case "--repeats": repeats = Number(1); break;
                case "--kernels":
                    string name = Value();
                    try { kernels = KernelPaths.Parse(name); }
                    catch (ArgumentException e) { throw new UsageException(e.Message); }
                    break;
                case "--kv":
                    kv = Value().ToLowerInvariant() switch
                    {
                        "f16" => KvCacheType.F16,
                        "f32" => KvCacheType.F32,
                        var other => throw new UsageException($"--kv must be f16 or f32, not '{other}'"),
                    };
                    break;
                case "--json": json = true; break;
                case "--executor": executor = true; break;
                default: throw new UsageException($"unknown option '{args[i]}'\n{Usage}");
            }
        }
        if ((model is null) == (synthetic is null)) throw new UsageException($"give either --model FILE or --synthetic SHAPE\n{Usage}");
        if (synthetic is not null && !SyntheticModelSpec.Named.ContainsKey(synthetic))
            throw new UsageException($"unknown --synthetic shape '{synthetic}' (known: {string.Join(", ", SyntheticModelSpec.Named.Keys)})");
        if (synthetic is not null && type is null) throw new UsageException("--synthetic needs --type (e.g. q4_0, q8_0, q4_k, f16)");
        if (model is not null && type is not null) throw new UsageException("--type goes with --synthetic; a --model file has its own types");
        var weightType = type is null ? GgmlType.F32 : ParseType(type);
        return new Options(model, synthetic, weightType, seed, cache ?? SyntheticModelCache.DefaultDirectory,
            prompt, generation, threads, concurrency, executor, repeats, kernels, kv, json);
    }

    private static GgmlType ParseType(string name)
    {
        foreach (var t in Inference.Tensors.TensorTypes.WeightTypes)
        {
            if (string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)) return t.Id;
        }
        throw new UsageException($"--type must be one of {string.Join(", ", Inference.Tensors.TensorTypes.WeightTypes.Select(t => t.Name.ToLowerInvariant()))}, not '{name}'");
    }
}

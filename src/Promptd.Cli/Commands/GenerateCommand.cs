using System.Globalization;
using Promptd.Inference.Generation;
using Promptd.Inference.Models;
using Promptd.Inference.Sampling;
using Promptd.Inference.Tokenization;

namespace Promptd.Cli.Commands;

/// <summary>
/// <c>promptd generate --model FILE (--tokens CSV | --prompt TEXT) --max-tokens N [--greedy]
/// [--temperature T --top-k K --top-p P --min-p P --repeat-penalty R --seed S] [--stop S]…
/// [--ignore-eos] [--kv f16|f32] [--print-ids]</c>: streams the generated text, or prints the
/// generated token ids as CSV. <c>--tokens</c> is used as given (no BOS added); <c>--prompt</c> is
/// tokenized with the model's BOS rule and special tokens parsed.
/// </summary>
internal static class GenerateCommand
{
    public const string Verb = "generate";
    public const string Summary = "generate text or token ids with a GGUF model (--model FILE --prompt TEXT|--tokens CSV)";
    private const string Usage =
        "usage: promptd generate --model FILE (--tokens CSV | --prompt TEXT) [--max-tokens N] [--greedy] " +
        "[--temperature T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [--stop TEXT]... " +
        "[--ignore-eos] [--kv f16|f32] [--ctx N] [--print-ids]";

    private sealed class Options
    {
        public string? Model;
        public int[]? Tokens;
        public string? Prompt;
        public int MaxTokens = 64;
        public SamplingOptions Sampling = new();
        public List<string> Stops = [];
        public bool IgnoreEos;
        public bool PrintIds;
        public KvCacheType Kv = KvCacheType.F16;
        public int? Context;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var o = Parse(args);
        try
        {
            using var model = TransformerModel.Load(o.Model!);
            var tokenizer = new Tokenizer(Vocabulary.FromMetadata(model.Metadata));
            int[] prompt = o.Tokens ?? tokenizer.Encode(o.Prompt!, addSpecial: true, parseSpecial: true);
            if (prompt.Length == 0) throw new UsageException("the prompt is empty");
            using var session = model.CreateSession(new InferenceSessionOptions { KvCacheType = o.Kv, ContextLength = o.Context });
            var sampler = new Sampler(session.VocabSize, o.Sampling);
            var generation = new GenerationOptions { MaxTokens = o.MaxTokens, StopStrings = o.Stops, StopAtEndOfGeneration = !o.IgnoreEos };

            using var cancel = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
            var ids = new List<int>();
            var stdout = Console.Out;
            await foreach (var chunk in new TextGenerator(session, tokenizer).GenerateAsync(prompt, sampler, generation, cancel.Token))
            {
                if (chunk.TokenId is int id) ids.Add(id);
                if (!o.PrintIds && chunk.Text.Length > 0)
                {
                    stdout.Write(chunk.Text);
                    stdout.Flush();
                }
                if (chunk.Result is { } result)
                {
                    if (o.PrintIds) stdout.WriteLine(string.Join(',', ids));
                    else stdout.WriteLine();
                    Console.Error.WriteLine(
                        $"[{result.FinishReason.ToString().ToLowerInvariant()}: {result.PromptTokens} prompt + {result.CompletionTokens} generated tokens, " +
                        $"first token {result.TimeToFirstToken.TotalMilliseconds:F0} ms, {result.TokensPerSecond?.ToString("F1", CultureInfo.InvariantCulture) ?? "-"} tokens/s, seed {sampler.Seed}]");
                }
            }
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or UnauthorizedAccessException
                                       or ContextOverflowException or ArgumentException)
        {
            Console.Error.WriteLine($"promptd generate: {e.Message}");
            return 1;
        }
    }

    private static Options Parse(string[] args)
    {
        var o = new Options();
        float? temperature = null, topP = null, minP = null, repeat = null;
        int? topK = null;
        ulong? seed = null;
        bool greedy = false;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{arg} needs a value");
            switch (arg)
            {
                case "--model": o.Model = Value(); break;
                case "--tokens": o.Tokens = ArgumentParsing.TokenIds(arg, Value()); break;
                case "--prompt": o.Prompt = Value(); break;
                case "--max-tokens": o.MaxTokens = PositiveInt(arg, Value()); break;
                case "--ctx": o.Context = PositiveInt(arg, Value()); break;
                case "--greedy": greedy = true; break;
                case "--temperature": temperature = Float(arg, Value()); break;
                case "--top-k": topK = (int)Float(arg, Value()); break;
                case "--top-p": topP = Float(arg, Value()); break;
                case "--min-p": minP = Float(arg, Value()); break;
                case "--repeat-penalty": repeat = Float(arg, Value()); break;
                case "--seed":
                    seed = ulong.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var s)
                        ? s : throw new UsageException("--seed must be a non-negative integer");
                    break;
                case "--stop": o.Stops.Add(Value()); break;
                case "--ignore-eos": o.IgnoreEos = true; break;
                case "--print-ids": o.PrintIds = true; break;
                case "--kv":
                    o.Kv = ArgumentParsing.KvCache(Value());
                    break;
                case "-h" or "--help": throw new UsageException(Usage);
                default: throw new UsageException($"unknown option '{arg}'; {Usage}");
            }
        }
        if (o.Model is null) throw new UsageException($"--model is required; {Usage}");
        if ((o.Tokens is null) == (o.Prompt is null)) throw new UsageException($"give exactly one of --tokens and --prompt; {Usage}");

        var sampling = greedy ? SamplingOptions.Greedy : new SamplingOptions();
        sampling = sampling with
        {
            Temperature = temperature ?? sampling.Temperature,
            TopK = topK ?? sampling.TopK,
            TopP = topP ?? sampling.TopP,
            MinP = minP ?? sampling.MinP,
            RepeatPenalty = repeat ?? sampling.RepeatPenalty,
            Seed = seed,
        };
        try
        {
            sampling.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        o.Sampling = sampling;
        return o;
    }


    private static int PositiveInt(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new UsageException($"{name} must be a positive integer, not '{value}'");

    private static float Float(string name, string value) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) && float.IsFinite(f)
            ? f : throw new UsageException($"{name} must be a number, not '{value}'");
}

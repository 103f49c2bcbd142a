using System.Globalization;

namespace Promptd.Cli.Chat;

/// <summary>The options <c>promptd run</c> and <c>promptd chat</c> share, and their parsing.</summary>
internal sealed class ChatArguments
{
    public const string OptionsUsage =
        "  --server URL          talk to a running server's /v1 API instead of loading the model here\n" +
        "  --api-key KEY         the server's API key (default: $PROMPTD_API_KEY)\n" +
        "  --data DIR            data directory holding models/ (default: $PROMPTD_DATA, else ./data)\n" +
        "  --system TEXT         a system message before the conversation\n" +
        "  --max-tokens N        generated tokens per answer (default 512)\n" +
        "  --temperature T       0 is greedy (the same answer every time)\n" +
        "  --top-p P, --seed S   sampling; the same seed gives the same answer\n" +
        "  --ctx N, --chat-template NAME   local model only: context length, chat template\n" +
        "  --verbose             token counts and speed on standard error after each answer";

    public List<string> Positional { get; } = [];
    public string? Server { get; private set; }
    public string? ApiKey { get; private set; }
    public string? Data { get; private set; }
    public string? System { get; private set; }
    public int MaxTokens { get; private set; } = 512;
    public float? Temperature { get; private set; }
    public float? TopP { get; private set; }
    public ulong? Seed { get; private set; }
    public int? ContextLength { get; private set; }
    public string? ChatTemplate { get; private set; }
    public bool Verbose { get; private set; }

    public string DataDirectory =>
        Data ?? (Environment.GetEnvironmentVariable("PROMPTD_DATA") is { Length: > 0 } d ? d : Path.Combine(Environment.CurrentDirectory, "data"));

    public static ChatArguments Parse(string[] args, string usage)
    {
        var a = new ChatArguments();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{arg} needs a value");
            switch (arg)
            {
                case "--server": a.Server = Value(); break;
                case "--api-key": a.ApiKey = Value(); break;
                case "--data": a.Data = Value(); break;
                case "--system": a.System = Value(); break;
                case "--max-tokens": a.MaxTokens = PositiveInt(arg, Value()); break;
                case "--temperature": a.Temperature = Number(arg, Value(), 0, 10); break;
                case "--top-p": a.TopP = Number(arg, Value(), 0, 1); break;
                case "--seed":
                    a.Seed = ulong.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var seed)
                        ? seed : throw new UsageException("--seed must be a non-negative integer");
                    break;
                case "--ctx": a.ContextLength = PositiveInt(arg, Value()); break;
                case "--chat-template": a.ChatTemplate = Value(); break;
                case "--verbose": a.Verbose = true; break;
                case "-h" or "--help": throw new UsageException(usage);
                default:
                    if (arg.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unknown option '{arg}'\n{usage}");
                    a.Positional.Add(arg);
                    break;
            }
        }
        a.ApiKey ??= Environment.GetEnvironmentVariable("PROMPTD_API_KEY") is { Length: > 0 } key ? key : null;
        if (a.Server is not null && (a.ContextLength is not null || a.ChatTemplate is not null))
            throw new UsageException("--ctx and --chat-template apply to a local model; a server uses its own settings");
        return a;
    }

    private static int PositiveInt(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new UsageException($"{name} must be a positive integer, not '{value}'");

    private static float Number(string name, string value, float min, float max) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) && float.IsFinite(f) && f >= min && f <= max
            ? f : throw new UsageException($"{name} must be a number from {min} to {max}, not '{value}'");
}

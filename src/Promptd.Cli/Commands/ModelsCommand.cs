using Promptd.Core.Models;

namespace Promptd.Cli.Commands;

/// <summary>
/// <c>promptd models pull MODELID</c> downloads a GGUF model into the models folder (resuming what
/// an interrupted run left); <c>promptd models list</c> shows what is installed.
/// </summary>
internal static class ModelsCommand
{
    public const string Verb = "models";
    public const string Summary = "pull (download) and list GGUF models";

    private const string Usage =
        "usage: promptd models pull huggingface/OWNER/REPO/FILE.gguf [--base-url URL] [--token TOKEN] [--data DIR]\n" +
        "       promptd models list [--data DIR]\n" +
        "  --data DIR      data directory holding models/ (default: $PROMPTD_DATA, else ./data)\n" +
        "  --base-url URL  Hugging Face host or mirror (default: $HF_ENDPOINT, else https://huggingface.co)\n" +
        "  --token TOKEN   access token for gated or private repositories (default: $HF_TOKEN)";

    public static Task<int> RunAsync(string[] args) => args switch
    {
        [] or ["-h" or "--help" or "help", ..] => PrintUsage(args.Length == 0 ? 2 : 0),
        ["pull", .. var rest] => PullAsync(rest),
        ["list", .. var rest] => Task.FromResult(List(rest)),
        [var other, ..] => throw new UsageException($"unknown subcommand '{other}' (expected pull or list)"),
    };

    private static Task<int> PrintUsage(int exitCode)
    {
        (exitCode == 0 ? Console.Out : Console.Error).WriteLine(Usage);
        return Task.FromResult(exitCode);
    }

    private static async Task<int> PullAsync(string[] args)
    {
        var (positional, options) = ParseArguments(args, "--data", "--base-url", "--token");
        if (positional.Count != 1) throw new UsageException("pull takes one model id, e.g. huggingface/OWNER/REPO/FILE.gguf");
        if (!ModelId.TryParse(positional[0], out var id, out var error)) throw new UsageException($"invalid model id: {error}");

        var pullOptions = new ModelPullOptions { Token = Option(options, "--token", "HF_TOKEN") };
        if (Option(options, "--base-url", "HF_ENDPOINT") is { } baseUrl)
        {
            if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                throw new UsageException($"--base-url '{baseUrl}' is not an absolute http or https URL");
            pullOptions.BaseUrl = uri;
        }

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            e.Cancel = true; // end cleanly, keeping the .part for the next run
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCtrlC;
        var printer = new PullProgressPrinter(Console.Error, PullProgressPrinter.ErrorIsTerminal());
        try
        {
            using var puller = new ModelPuller(ModelsFolder.ForDataDirectory(DataDirectory(options)), pullOptions);
            var result = await puller.PullAsync(id, printer, cancel.Token);
            printer.EndLine();
            Console.WriteLine(result.AlreadyInstalled
                ? $"{id} is already installed ({ByteSize.Format(result.SizeBytes)}): {result.Path}"
                : $"installed {id} ({ByteSize.Format(result.SizeBytes)}): {result.Path}");
            return 0;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return Fail(printer, "interrupted; run the same command again to resume", 130);
        }
        catch (ModelPullException e)
        {
            return Fail(printer, e.Message, 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(printer, $"cannot write the models folder: {e.Message}", 1);
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
        }
    }

    private static int Fail(PullProgressPrinter printer, string message, int exitCode)
    {
        printer.EndLine();
        Console.Error.WriteLine($"promptd models pull: {message}");
        return exitCode;
    }

    private static int List(string[] args)
    {
        var (positional, options) = ParseArguments(args, "--data");
        if (positional.Count != 0) throw new UsageException($"list takes no arguments (got '{positional[0]}')");
        var folder = ModelsFolder.ForDataDirectory(DataDirectory(options));
        var models = folder.List();
        if (models.Count == 0)
        {
            Console.Error.WriteLine($"no models in {folder.Root}; get one with: promptd models pull huggingface/OWNER/REPO/FILE.gguf");
            return 0;
        }
        int width = 0;
        foreach (var m in models) width = Math.Max(width, m.Id.Value.Length);
        foreach (var m in models)
            Console.WriteLine($"{m.Id.Value.PadRight(width)}  {ByteSize.Format(m.SizeBytes),10}  {m.ModifiedUtc:yyyy-MM-dd HH:mm}");
        return 0;
    }

    private static string DataDirectory(Dictionary<string, string> options) =>
        Option(options, "--data", "PROMPTD_DATA") ?? Path.Combine(Environment.CurrentDirectory, "data");

    private static string? Option(Dictionary<string, string> options, string name, string environmentVariable) =>
        options.GetValueOrDefault(name) ?? (Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } v ? v : null);

    /// <summary>Splits "--name value" (or "--name=value") options from positional arguments; unknown options are usage errors.</summary>
    private static (List<string> Positional, Dictionary<string, string> Options) ParseArguments(string[] args, params string[] known)
    {
        var positional = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
                continue;
            }
            int eq = arg.IndexOf('=');
            string name = eq > 0 ? arg[..eq] : arg;
            if (Array.IndexOf(known, name) < 0) throw new UsageException($"unknown option '{name}'");
            if (eq > 0) options[name] = arg[(eq + 1)..];
            else if (i + 1 < args.Length) options[name] = args[++i];
            else throw new UsageException($"option '{name}' needs a value");
        }
        return (positional, options);
    }
}

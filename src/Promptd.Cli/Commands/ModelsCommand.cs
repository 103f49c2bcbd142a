using System.Diagnostics;
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
        var printer = new ProgressPrinter(Console.Error, IsTerminal());
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

    private static int Fail(ProgressPrinter printer, string message, int exitCode)
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

    private static bool IsTerminal() =>
        !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not "dumb";

    /// <summary>
    /// Draws download progress: a bar redrawn in place on a terminal, or a plain line every few
    /// seconds when the output goes to a file or a pipe. Reports arrive synchronously, in order.
    /// </summary>
    private sealed class ProgressPrinter(TextWriter output, bool terminal) : IProgress<PullProgress>
    {
        private static readonly TimeSpan TerminalInterval = TimeSpan.FromMilliseconds(100);
        private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(3);

        private readonly Lock _lock = new();
        private long _lastDraw;
        private bool _lineOpen;

        public void Report(PullProgress p)
        {
            lock (_lock)
            {
                switch (p.Stage)
                {
                    case PullStage.Waiting:
                        EndLine();
                        output.WriteLine("waiting for another download of this model to finish...");
                        break;
                    case PullStage.Downloading:
                        Downloading(p);
                        break;
                    case PullStage.Verifying:
                        EndLine();
                        output.WriteLine("verifying the GGUF file...");
                        break;
                }
            }
        }

        private void Downloading(PullProgress p)
        {
            bool done = p.TotalBytes is { } total && p.BytesDone >= total;
            long now = Stopwatch.GetTimestamp();
            if (!done && _lastDraw != 0 && Stopwatch.GetElapsedTime(_lastDraw, now) < (terminal ? TerminalInterval : PlainInterval)) return;
            _lastDraw = now;
            string status = Describe(p);
            if (!terminal)
            {
                output.WriteLine("downloading: " + status);
                return;
            }
            int width = TerminalWidth();
            // The bar keeps one width while the status beside it grows (room for about 56 characters).
            string line = p.TotalBytes is { } t && t > 0 ? Bar(p.BytesDone, t, Math.Clamp(width - 60, 10, 40)) + " " + status : status;
            output.Write("\r" + (line.Length >= width ? line[..(width - 1)] : line.PadRight(width - 1)));
            _lineOpen = true;
        }

        private static string Describe(PullProgress p)
        {
            string rate = p.BytesPerSecond > 0 ? $"  {ByteSize.Format((long)p.BytesPerSecond)}/s" : "";
            if (p.TotalBytes is not { } total || total <= 0) return ByteSize.Format(p.BytesDone) + rate;
            string eta = p.BytesPerSecond > 0 && p.BytesDone < total
                ? "  ETA " + TimeSpan.FromSeconds(Math.Ceiling((total - p.BytesDone) / p.BytesPerSecond)).ToString(@"h\:mm\:ss")
                : "";
            return $"{100.0 * p.BytesDone / total,5:0.0}%  {ByteSize.Format(p.BytesDone)} / {ByteSize.Format(total)}{rate}{eta}";
        }

        private static string Bar(long done, long total, int cells)
        {
            int filled = (int)Math.Clamp(done * cells / total, 0, cells);
            return "[" + new string('#', filled) + new string('-', cells - filled) + "]";
        }

        private static int TerminalWidth()
        {
            try
            {
                return Console.WindowWidth is > 20 and var w ? w : 80;
            }
            catch (IOException)
            {
                return 80;
            }
        }

        /// <summary>Ends the bar's line so what follows starts on a fresh one.</summary>
        public void EndLine()
        {
            lock (_lock)
            {
                if (!_lineOpen) return;
                output.WriteLine();
                _lineOpen = false;
            }
        }
    }
}

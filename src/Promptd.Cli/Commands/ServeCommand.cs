using Microsoft.Extensions.Configuration;
using Promptd.Core.Models;
using Promptd.Server;

namespace Promptd.Cli.Commands;

/// <summary>
/// <c>promptd serve [--urls URL] [--data DIR] [--default-model ID] [--config FILE] [--pull-default] [--Section:Key=value ...]</c>:
/// runs the server until Ctrl+C or SIGTERM. Further settings come from <c>--Section:Key=value</c>
/// or environment variables <c>Section__Key</c> (see docs/api.md, "Configuration").
/// </summary>
public static class ServeCommand
{
    public const string Summary = "run the HTTP server (--urls http://127.0.0.1:8080 --data ./data)";

    private const string Usage =
        "usage: promptd serve [--urls URL] [--data DIR] [--default-model MODEL_ID] [--config FILE.json] [--pull-default] [--Section:Key=value ...]\n" +
        "  --config FILE     JSON settings (Upstreams, Models:Settings, ...); the environment and --Section:Key=value override it\n" +
        "  --pull-default    with no model installed, download a small instruct model before starting\n" +
        "                    (asked interactively when run in a terminal)";

    public static async Task<int> RunAsync(string[] args)
    {
        var urls = "http://127.0.0.1:8080";
        var data = "./data";
        string? defaultModel = null;
        string? configFile = null;
        var pullDefault = false;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--urls": urls = Value(args, ref i); break;
                case "--data": data = Value(args, ref i); break;
                case "--default-model": defaultModel = Value(args, ref i); break;
                case "--config": configFile = Value(args, ref i); break;
                case "--pull-default": pullDefault = true; break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    // Settings are --Section:Key=value or --Section:Key value; anything else is a typo.
                    if (!args[i].StartsWith("--", StringComparison.Ordinal) || !args[i].Contains(':'))
                        throw new UsageException($"unknown option '{args[i]}' (settings look like --Section:Key=value)");
                    rest.Add(args[i]);
                    if (!args[i].Contains('=')) rest.Add(Value(args, ref i));
                    break;
            }
        }
        IConfiguration configuration;
        try
        {
            // The file first: environment variables and the command line override what it says.
            var builder = new ConfigurationBuilder();
            if (configFile is not null) builder.AddJsonFile(Path.GetFullPath(configFile), optional: false);
            configuration = builder.AddEnvironmentVariables().AddCommandLine([.. rest]).Build();
        }
        catch (Exception e) when (e is FormatException or FileNotFoundException or InvalidDataException)
        {
            throw new UsageException(e.Message);
        }
        PromptdServerOptions options;
        try
        {
            options = PromptdServerOptions.FromConfiguration(configuration, data, urls, Console.Out);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            throw new UsageException(e.InnerException?.Message ?? e.Message);
        }
        if (defaultModel is not null) options = options with { DefaultModel = defaultModel };

        if (options.Upstreams.Count == 0 && ModelsFolder.ForDataDirectory(data).List().Count == 0 && (pullDefault || AskToPullDefault()))
        {
            if (!await PullDefaultAsync(options)) return 1;
        }

        PromptdServer server;
        try
        {
            server = await PromptdServer.StartAsync(options);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            Console.Error.WriteLine($"promptd serve: {e.Message}");
            return 1;
        }
        await using var running = server;
        Console.WriteLine($"Promptd listening on {string.Join(", ", server.Urls)} (data: {Path.GetFullPath(data)})");
        await server.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>In a terminal with no model at all, offers the small default model (the answer defaults to no).</summary>
    private static bool AskToPullDefault()
    {
        if (Console.IsInputRedirected || Console.IsOutputRedirected) return false;
        Console.Write($"No model is installed. Download {SuggestedModels.SmallInstruct} ({SuggestedModels.SmallInstructDescription}) now? [y/N] ");
        return Console.ReadLine()?.Trim().ToLowerInvariant() is "y" or "yes";
    }

    /// <summary>Pulls the default model with a progress bar before the server starts; false (after saying why) when that failed.</summary>
    private static async Task<bool> PullDefaultAsync(PromptdServerOptions options)
    {
        using var puller = new ModelPuller(ModelsFolder.ForDataDirectory(options.DataDirectory), options.Pull);
        var printer = new PullProgressPrinter(Console.Error, PullProgressPrinter.ErrorIsTerminal());
        try
        {
            Console.WriteLine($"Pulling {SuggestedModels.SmallInstruct}...");
            var result = await puller.PullAsync(SuggestedModels.SmallInstruct, printer);
            printer.EndLine();
            Console.WriteLine($"installed {result.Id} ({ByteSize.Format(result.SizeBytes)})");
            return true;
        }
        catch (Exception e) when (e is ModelPullException or IOException or UnauthorizedAccessException)
        {
            printer.EndLine();
            Console.Error.WriteLine($"promptd serve: could not pull {SuggestedModels.SmallInstruct}: {e.Message}");
            Console.Error.WriteLine(
                $"Offline, copy a GGUF file to {Path.Combine(Path.GetFullPath(options.DataDirectory), "models", "huggingface", "OWNER", "REPO", "FILE.gguf")} instead.");
            return false;
        }
    }

    private static string Value(string[] args, ref int i)
    {
        if (i + 1 >= args.Length) throw new UsageException($"{args[i]} needs a value");
        return args[++i];
    }
}

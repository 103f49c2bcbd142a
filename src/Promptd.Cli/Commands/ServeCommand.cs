using Microsoft.Extensions.Configuration;
using Promptd.Server;

namespace Promptd.Cli.Commands;

/// <summary>
/// <c>promptd serve [--urls URL] [--data DIR] [--default-model ID] [--Section:Key=value ...]</c>:
/// runs the server until Ctrl+C or SIGTERM. Further settings come from <c>--Section:Key=value</c>
/// or environment variables <c>Section__Key</c> (see docs/api.md, "Configuration").
/// </summary>
public static class ServeCommand
{
    public const string Summary = "run the HTTP server (--urls http://127.0.0.1:8080 --data ./data)";

    public static async Task<int> RunAsync(string[] args)
    {
        var urls = "http://127.0.0.1:8080";
        var data = "./data";
        string? defaultModel = null;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--urls": urls = Value(args, ref i); break;
                case "--data": data = Value(args, ref i); break;
                case "--default-model": defaultModel = Value(args, ref i); break;
                case "-h" or "--help":
                    Console.WriteLine("usage: promptd serve [--urls URL] [--data DIR] [--default-model MODEL_ID] [--Section:Key=value ...]");
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
            configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine([.. rest]).Build();
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
        PromptdServerOptions options;
        try
        {
            options = PromptdServerOptions.FromConfiguration(configuration, data, urls, Console.Out);
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException(e.InnerException?.Message ?? e.Message);
        }
        if (defaultModel is not null) options = options with { DefaultModel = defaultModel };

        PromptdServer server;
        try
        {
            server = await PromptdServer.StartAsync(options);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            Console.Error.WriteLine($"promptd serve: {e.Message}");
            return 1;
        }
        await using var running = server;
        Console.WriteLine($"Promptd listening on {string.Join(", ", server.Urls)} (data: {Path.GetFullPath(data)})");
        await server.WaitForShutdownAsync();
        return 0;
    }

    private static string Value(string[] args, ref int i)
    {
        if (i + 1 >= args.Length) throw new UsageException($"{args[i]} needs a value");
        return args[++i];
    }
}

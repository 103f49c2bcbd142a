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
                    if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unexpected argument '{args[i]}'");
                    rest.Add(args[i]);
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
        var options = PromptdServerOptions.FromConfiguration(configuration, data, urls, Console.Out);
        if (defaultModel is not null) options = options with { DefaultModel = defaultModel };

        await using var server = await PromptdServer.StartAsync(options);
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

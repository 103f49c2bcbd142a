using Promptd.Cli.Commands;

namespace Promptd.Cli;

/// <summary>Dispatches `promptd VERB ...` to the command that handles the verb.</summary>
public static class CommandLine
{
    private static readonly (string Verb, string Summary, Func<string[], Task<int>> Run)[] Commands =
    [
        ("serve", ServeCommand.Summary, ServeCommand.RunAsync),
        (ModelsCommand.Verb, ModelsCommand.Summary, ModelsCommand.RunAsync),
        (TokenizeCommand.Verb, TokenizeCommand.Summary, TokenizeCommand.RunAsync),
        ("eval-logits", "evaluate token ids with a GGUF model and write the logits", EvalLogitsCommand.RunAsync),
        (GenerateCommand.Verb, GenerateCommand.Summary, GenerateCommand.RunAsync),
        (RunCommand.Verb, RunCommand.Summary, RunCommand.RunAsync),
        (ChatCommand.Verb, ChatCommand.Summary, ChatCommand.RunAsync),
        (BenchCommand.Verb, BenchCommand.Summary, BenchCommand.RunAsync),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintUsage(Console.Out);
            return args.Length == 0 ? 2 : 0;
        }
        foreach (var (verb, _, run) in Commands)
        {
            if (verb == args[0])
            {
                try
                {
                    return await run(args[1..]);
                }
                catch (UsageException e)
                {
                    Console.Error.WriteLine($"promptd {verb}: {e.Message}");
                    return 2;
                }
            }
        }
        Console.Error.WriteLine($"promptd: unknown command '{args[0]}'");
        PrintUsage(Console.Error);
        return 2;
    }

    private static void PrintUsage(TextWriter w)
    {
        w.WriteLine("usage: promptd COMMAND [options]");
        w.WriteLine();
        foreach (var (verb, summary, _) in Commands)
            w.WriteLine($"  {verb,-12} {summary}");
    }
}

/// <summary>A command-line mistake: printed as one line, exit code 2, no stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);

using Promptd.Cli.Chat;
using Promptd.Core.Engines;

namespace Promptd.Cli.Commands;

/// <summary>
/// <c>promptd run MODEL "prompt" [options]</c>: answers one prompt, streaming the text as it is
/// generated, with the model loaded in this process or on a running server (<c>--server URL</c>).
/// </summary>
internal static class RunCommand
{
    public const string Verb = "run";
    public const string Summary = "answer one prompt with a model, streaming the text (MODEL \"prompt\")";
    private const string Usage = "usage: promptd run MODEL \"PROMPT\" [options]\n" + ChatArguments.OptionsUsage;

    public static async Task<int> RunAsync(string[] args)
    {
        var a = ChatArguments.Parse(args, Usage);
        if (a.Positional.Count != 2) throw new UsageException(Usage);
        using var model = ModelConnection.Open(a.Positional[0], a);
        var messages = new List<ChatMessage>();
        if (a.System is { } system) messages.Add(new ChatMessage("system", system));
        messages.Add(new ChatMessage("user", a.Positional[1]));

        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            // Stop the answer and end normally (the text so far stays on screen).
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCtrlC;
        try
        {
            await model.AnswerAsync(messages, Console.Out, stop.Token);
            Console.Out.WriteLine();
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Out.WriteLine();
            Console.Error.WriteLine("[stopped]");
            return 130;
        }
        catch (EngineException e)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"promptd run: {e.Message}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
        }
    }
}

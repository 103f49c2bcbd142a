using Promptd.Cli.Chat;
using Promptd.Core.Engines;

namespace Promptd.Cli.Commands;

/// <summary>
/// <c>promptd chat MODEL [options]</c>: a conversation in the terminal. Each line read is a question;
/// the answer streams as it is generated and both stay in the conversation. Ctrl+C stops an answer
/// (and drops that turn); Ctrl+C at the prompt, Ctrl+D (end of input) or <c>/bye</c> ends; <c>/clear</c>
/// starts over. Reads piped input too, answering line by line.
/// </summary>
internal static class ChatCommand
{
    public const string Verb = "chat";
    public const string Summary = "talk with a model in the terminal (MODEL); keeps the conversation";
    private const string Usage = "usage: promptd chat MODEL [options]\n" + ChatArguments.OptionsUsage;

    public static async Task<int> RunAsync(string[] args)
    {
        var a = ChatArguments.Parse(args, Usage);
        if (a.Positional.Count != 1) throw new UsageException(Usage);
        using var model = ModelConnection.Open(a.Positional[0], a);
        bool interactive = !Console.IsInputRedirected;
        if (interactive) Console.Error.WriteLine($"Chatting with {model.ModelId}. Ctrl+C stops an answer; /clear starts over; Ctrl+D or /bye ends.");

        var conversation = new List<ChatMessage>();
        void Reset()
        {
            conversation.Clear();
            if (a.System is { } system) conversation.Add(new ChatMessage("system", system));
        }
        Reset();

        CancellationTokenSource? answering = null;
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            // During an answer Ctrl+C stops it; at the prompt it ends the program as usual.
            var current = Volatile.Read(ref answering);
            if (current is null) return;
            e.Cancel = true;
            current.Cancel();
        };
        Console.CancelKeyPress += onCtrlC;
        try
        {
            while (true)
            {
                if (interactive) Console.Write(">>> ");
                var line = await Console.In.ReadLineAsync();
                if (line is null) break;
                var question = line.Trim();
                if (question is "/bye" or "/exit") break;
                if (question == "/clear")
                {
                    Reset();
                    continue;
                }
                if (question.Length == 0) continue;

                conversation.Add(new ChatMessage("user", line));
                using var stop = new CancellationTokenSource();
                Volatile.Write(ref answering, stop);
                try
                {
                    var answer = await model.AnswerAsync(conversation, Console.Out, stop.Token);
                    conversation.Add(new ChatMessage("assistant", answer));
                    Console.Out.WriteLine();
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // A stopped answer leaves the conversation as it was before the question.
                    conversation.RemoveAt(conversation.Count - 1);
                    Console.Out.WriteLine();
                    Console.Error.WriteLine("[stopped]");
                }
                catch (EngineException e)
                {
                    conversation.RemoveAt(conversation.Count - 1);
                    Console.Out.Flush();
                    Console.Error.WriteLine($"promptd chat: {e.Message}");
                    if (!interactive) return 1;
                }
                finally
                {
                    Volatile.Write(ref answering, null);
                }
            }
            if (interactive) Console.Error.WriteLine();
            return 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
        }
    }
}

using System.Text;
using Promptd.Core.Engines;
using Promptd.Core.Runs;
using Promptd.Core.Threads;

namespace Promptd.Core.Scheduling;

/// <summary>
/// Turns a run and its thread's earlier messages into an engine request. A run that carries its whole
/// conversation (<see cref="RunInput.Messages"/>) sends it as it is. Without a template the
/// engine gets chat messages (the model's own chat template applies); with one, every earlier
/// question is rendered through the template followed by its answer, then the new question.
/// </summary>
public static class EngineRequestBuilder
{
    public const string Placeholder = "{prompt}";

    public static EngineRequest Build(Run run, IReadOnlyList<ThreadMessage> history)
    {
        var input = run.Input;
        if (input.Messages is { } conversation)
        {
            return new EngineRequest
            {
                ModelId = run.ModelId, Messages = conversation, Sampling = input.Sampling, MaxTokens = input.MaxTokens, Stop = input.Stop,
            };
        }
        if (input.Template is { } template)
        {
            var text = new StringBuilder();
            foreach (var m in input.Preamble) text.Append(m.Content).Append('\n');
            foreach (var m in history)
            {
                if (m.Role == MessageRoles.User) text.Append(template.Replace(Placeholder, m.Content, StringComparison.Ordinal));
                else text.Append(m.Content).Append('\n');
            }
            text.Append(template.Replace(Placeholder, input.Prompt, StringComparison.Ordinal));
            return new EngineRequest
            {
                ModelId = run.ModelId, Prompt = text.ToString(), Sampling = input.Sampling, MaxTokens = input.MaxTokens, Stop = input.Stop,
            };
        }
        var messages = new List<ChatMessage>(input.Preamble.Count + history.Count + 1);
        messages.AddRange(input.Preamble);
        foreach (var m in history) messages.Add(new ChatMessage(m.Role, m.Content));
        messages.Add(new ChatMessage(input.PromptRole ?? MessageRoles.User, input.Prompt));
        return new EngineRequest
        {
            ModelId = run.ModelId, Messages = messages, Sampling = input.Sampling, MaxTokens = input.MaxTokens, Stop = input.Stop,
        };
    }
}

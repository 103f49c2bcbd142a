using System.Runtime.CompilerServices;

namespace Promptd.Core.Engines.Diagnostic;

/// <summary>
/// The diagnostic model <c>promptd/echo</c>: answers with the last user message (or the raw
/// prompt), one word-sized token at a time, optionally waiting <see cref="TokenDelay"/> before each
/// token (<c>promptd/echo/50ms</c>). For smoke tests and for measuring the server without model
/// cost; it is not a language model.
/// </summary>
public sealed class EchoEngine(TimeSpan tokenDelay) : IEngine
{
    public const string ModelId = "promptd/echo";
    public TimeSpan TokenDelay { get; } = tokenDelay;

    /// <summary><c>promptd/echo</c> or <c>promptd/echo/Nms</c> (N from 1 to 60000).</summary>
    public static bool TryParse(string modelId, out EchoEngine engine)
    {
        engine = null!;
        if (modelId == ModelId)
        {
            engine = new EchoEngine(TimeSpan.Zero);
            return true;
        }
        if (!modelId.StartsWith(ModelId + "/", StringComparison.Ordinal) || !modelId.EndsWith("ms", StringComparison.Ordinal)) return false;
        var digits = modelId.AsSpan(ModelId.Length + 1, modelId.Length - ModelId.Length - 3);
        if (!int.TryParse(digits, System.Globalization.NumberStyles.None, null, out var ms) || ms < 1 || ms > 60000) return false;
        engine = new EchoEngine(TimeSpan.FromMilliseconds(ms));
        return true;
    }

    public async IAsyncEnumerable<EngineChunk> GenerateAsync(EngineRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var input = request.Prompt ?? LastUserMessage(request.Messages);
        var promptTokens = CountTokens(request.Prompt ?? Concatenate(request.Messages));
        var produced = 0;
        var start = 0;
        while (start < input.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (request.MaxTokens is { } max && produced >= max)
            {
                yield return new EngineChunk("", FinishReason.Length, new EngineUsage(promptTokens, produced));
                yield break;
            }
            var end = NextTokenEnd(input, start);
            if (TokenDelay > TimeSpan.Zero) await Task.Delay(TokenDelay, cancellationToken);
            produced++;
            yield return new EngineChunk(input[start..end]);
            start = end;
        }
        yield return new EngineChunk("", FinishReason.Stop, new EngineUsage(promptTokens, produced));
    }

    /// <summary>A token is a word with the spaces before it, so the tokens concatenate back to the input.</summary>
    private static int NextTokenEnd(string s, int start)
    {
        var i = start;
        while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        while (i < s.Length && !char.IsWhiteSpace(s[i])) i++;
        return i;
    }

    private static int CountTokens(string s)
    {
        var n = 0;
        for (var i = 0; i < s.Length; i = NextTokenEnd(s, i)) n++;
        return n;
    }

    private static string LastUserMessage(IReadOnlyList<ChatMessage>? messages)
    {
        if (messages is null) return "";
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            if (messages[i].Role == "user") return messages[i].Content;
        }
        return "";
    }

    private static string Concatenate(IReadOnlyList<ChatMessage>? messages)
    {
        if (messages is null) return "";
        var parts = new string[messages.Count];
        for (var i = 0; i < parts.Length; i++) parts[i] = messages[i].Content;
        return string.Join(' ', parts);
    }
}

/// <summary>Serves <c>promptd/echo</c> and <c>promptd/echo/Nms</c>.</summary>
public sealed class EchoEngineProvider : Resolution.IEngineProvider
{
    public bool TryResolve(string modelId, out IEngine engine)
    {
        var ok = EchoEngine.TryParse(modelId, out var echo);
        engine = echo;
        return ok;
    }
}

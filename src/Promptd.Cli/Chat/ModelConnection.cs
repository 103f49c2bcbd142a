using System.Globalization;
using Promptd.Core.Engines;
using Promptd.Core.Engines.Diagnostic;
using Promptd.Core.Engines.Embedded;
using Promptd.Core.Engines.Resolution;
using Promptd.Core.Engines.Upstream;
using Promptd.Core.Models;

namespace Promptd.Cli.Chat;

/// <summary>
/// The model <c>promptd run</c> and <c>promptd chat</c> talk to, behind the one engine interface: the
/// GGUF model loaded in this process (or <c>promptd/echo</c>), or a running server's OpenAI-compatible
/// API (<c>--server</c>), streamed with the same client Promptd uses for upstream servers.
/// </summary>
internal sealed class ModelConnection : IDisposable
{
    private readonly IEngine _engine;
    private readonly IDisposable _owned;
    private readonly ChatArguments _arguments;

    private ModelConnection(string modelId, IEngine engine, IDisposable owned, ChatArguments arguments)
    {
        ModelId = modelId;
        _engine = engine;
        _owned = owned;
        _arguments = arguments;
    }

    public string ModelId { get; }

    /// <summary>Connects to <paramref name="modelId"/>; a model that cannot be used is a <see cref="UsageException"/> saying why.</summary>
    public static ModelConnection Open(string modelId, ChatArguments a) =>
        a.Server is { } server ? Remote(modelId, server, a) : Local(modelId, a);

    private static ModelConnection Remote(string modelId, string server, ChatArguments a)
    {
        var options = new UpstreamModelOptions
        {
            ModelId = modelId,
            BaseUrls = [server],
            ApiKey = a.ApiKey,
            // The answer may wait behind other requests and a model load; the server has its own limits.
            Timeouts = { FirstByte = TimeSpan.FromMinutes(10), Idle = TimeSpan.FromMinutes(5), Total = TimeSpan.FromHours(1) },
            Retry = { MaxAttempts = 2 },
            HealthCheck = { Interval = TimeSpan.Zero },
        };
        try
        {
            var engine = new UpstreamEngine(options);
            return new ModelConnection(modelId, engine, engine, a);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message.Replace($"upstream model '{modelId}': ", "", StringComparison.Ordinal));
        }
    }

    private static ModelConnection Local(string modelId, ChatArguments a)
    {
        if (EchoEngine.TryParse(modelId, out var echo)) return new ModelConnection(modelId, echo, NoDispose.Instance, a);
        var folder = ModelsFolder.ForDataDirectory(a.DataDirectory);
        if (!Core.Models.ModelId.TryParse(modelId, out var id, out var error)) throw new UsageException($"invalid model id: {error}");
        if (!folder.IsInstalled(id))
        {
            var installed = folder.List();
            var names = installed.Count == 0 ? "none" : string.Join(", ", installed.Select(m => m.Id.Value));
            throw new UsageException($"model {id} is not installed in {folder.Root} (installed: {names}); get it with `promptd models pull {id}`, or use --server URL");
        }
        var engine = new EmbeddedEngine(folder, new EmbeddedEngineOptions
        {
            KeepAlive = Timeout.InfiniteTimeSpan,
            ContextLength = a.ContextLength,
            ChatTemplate = a.ChatTemplate,
            DefaultMaxTokens = a.MaxTokens,
        });
        return new ModelConnection(modelId, engine, engine, a);
    }

    /// <summary>
    /// Streams the answer to <paramref name="messages"/> into <paramref name="output"/> as it is generated
    /// and returns it. Cancellation stops it before the next token (<see cref="OperationCanceledException"/>);
    /// failures are <see cref="EngineException"/>s with a message for the user.
    /// </summary>
    public async Task<string> AnswerAsync(IReadOnlyList<ChatMessage> messages, TextWriter output, CancellationToken cancellationToken)
    {
        var request = new EngineRequest
        {
            ModelId = ModelId,
            Messages = messages,
            MaxTokens = _arguments.MaxTokens,
            Sampling = new SamplingParameters { Temperature = _arguments.Temperature, TopP = _arguments.TopP, Seed = _arguments.Seed },
        };
        var answer = new System.Text.StringBuilder();
        await foreach (var chunk in _engine.GenerateAsync(request, cancellationToken).WithCancellation(cancellationToken))
        {
            if (chunk.Text.Length > 0)
            {
                answer.Append(chunk.Text);
                output.Write(chunk.Text);
                output.Flush();
            }
            if (chunk.FinishReason is { } reason && _arguments.Verbose) Console.Error.WriteLine(Stats(reason, chunk.Usage));
        }
        return answer.ToString();
    }

    private static string Stats(FinishReason reason, EngineUsage? usage)
    {
        var text = $"[{reason.ToString().ToLowerInvariant()}";
        if (usage is not null)
        {
            text += $": {usage.PromptTokens} prompt + {usage.CompletionTokens} generated tokens";
            if (usage.GenerationMs is > 0 && usage.CompletionTokens > 0)
                text += ", " + (usage.CompletionTokens * 1000 / usage.GenerationMs.Value).ToString("F1", CultureInfo.InvariantCulture) + " tokens/s";
        }
        return text + "]";
    }

    public void Dispose() => _owned.Dispose();

    private sealed class NoDispose : IDisposable
    {
        public static readonly NoDispose Instance = new();
        public void Dispose() { }
    }
}

using System.Runtime.CompilerServices;
using Promptd.Core.Models;
using Promptd.Inference.Chat;
using Promptd.Inference.Generation;
using Promptd.Inference.Sampling;
using GenerationFinish = Promptd.Inference.Generation.FinishReason;

namespace Promptd.Core.Engines.Embedded;

/// <summary>
/// The in-process engine: runs GGUF models from the models folder with Promptd.Inference. Chat
/// requests are rendered with the model's chat template; raw prompts are tokenized as they are
/// (BOS per the model, special tokens such as [INST] or &lt;|im_start|&gt; recognized).
/// </summary>
public sealed class EmbeddedEngine : IEngine, IDisposable
{
    private readonly ModelsFolder _folder;
    private readonly EmbeddedEngineOptions _options;

    public EmbeddedEngine(ModelsFolder folder, EmbeddedEngineOptions? options = null, TimeProvider? time = null)
    {
        _folder = folder;
        _options = options ?? new EmbeddedEngineOptions();
        Host = new ModelHost(_options, time);
    }

    public ModelHost Host { get; }

    /// <summary>True when <paramref name="modelId"/> names a model file installed in the models folder.</summary>
    public bool Serves(string modelId) =>
        ModelId.TryParse(modelId, out var id, out _) && _folder.IsInstalled(id!);

    public IAsyncEnumerable<EngineChunk> GenerateAsync(EngineRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if ((request.Messages is null) == (request.Prompt is null))
            throw new EngineException("a request needs either messages or a prompt", retryable: false);
        if (!ModelId.TryParse(request.ModelId, out var id, out var error))
            throw new EngineException($"unknown model '{request.ModelId}': {error}", retryable: false);
        string path = _folder.PathOf(id!);
        if (!File.Exists(path))
            throw new EngineException(
                $"model '{id}' is not installed: run `promptd models pull {id}`, or copy the GGUF file to {path} (works offline)", retryable: false);
        return RunAsync(request, id!.Value, path, cancellationToken);
    }

    private async IAsyncEnumerable<EngineChunk> RunAsync(EngineRequest request, string modelId, string path,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var lease = await Host.AcquireAsync(modelId, path, cancellationToken).ConfigureAwait(false);
        var model = lease.Model;
        var prompt = Tokenize(model, request);
        var sampler = new Sampler(model.Model.Config.VocabSize, ToSamplingOptions(request.Sampling));
        var options = new GenerationOptions { MaxTokens = request.MaxTokens ?? _options.DefaultMaxTokens, StopStrings = request.Stop };
        // The executor stops between tokens on either signal; which one fired decides cancel or finish.
        using var stop = request.Finish.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, request.Finish) : null;
        IAsyncEnumerable<GenerationChunk> chunks;
        try
        {
            chunks = model.Executor.GenerateAsync(prompt, sampler, options, stop?.Token ?? cancellationToken);
        }
        catch (Exception e) when (e is ContextOverflowException or ArgumentException)
        {
            throw new EngineException(e.Message, retryable: false, e);
        }

        await foreach (var chunk in chunks.ConfigureAwait(false))
        {
            if (chunk.Result is not { } result)
            {
                if (chunk.Text.Length > 0) yield return new EngineChunk(chunk.Text);
                continue;
            }
            bool finishing = request.Finish.IsCancellationRequested;
            if (cancellationToken.IsCancellationRequested || (result.FinishReason == GenerationFinish.Cancelled && !finishing))
                throw new OperationCanceledException(cancellationToken);
            var usage = new EngineUsage(result.PromptTokens, result.CompletionTokens,
                result.TimeToFirstToken.TotalMilliseconds, result.GenerationTime.TotalMilliseconds);
            var finish = result.FinishReason == GenerationFinish.Length ? FinishReason.Length : FinishReason.Stop;
            yield return new EngineChunk(finishing ? "" : chunk.Text, finish, usage);
        }
    }

    private static int[] Tokenize(LoadedModel model, EngineRequest request)
    {
        if (request.Prompt is { } raw) return model.Tokenizer.Encode(raw, addSpecial: true, parseSpecial: true);
        var turns = new List<ChatTurn>(request.Messages!.Count);
        foreach (var m in request.Messages!) turns.Add(new ChatTurn(m.Role, m.Content));
        try
        {
            return model.Chat.Template.RenderPrompt(turns).Encode(model.Tokenizer);
        }
        catch (ArgumentException e)
        {
            throw new EngineException(e.Message, retryable: false, e);
        }
    }

    /// <summary>Unset parameters keep llama.cpp's defaults; temperature 0 is greedy.</summary>
    public static SamplingOptions ToSamplingOptions(SamplingParameters p)
    {
        var defaults = new SamplingOptions();
        var options = new SamplingOptions
        {
            Temperature = p.Temperature ?? defaults.Temperature,
            TopP = p.TopP ?? defaults.TopP,
            TopK = p.TopK ?? defaults.TopK,
            MinP = p.MinP ?? defaults.MinP,
            RepeatPenalty = p.RepeatPenalty ?? defaults.RepeatPenalty,
            FrequencyPenalty = p.FrequencyPenalty ?? defaults.FrequencyPenalty,
            PresencePenalty = p.PresencePenalty ?? defaults.PresencePenalty,
            Seed = p.Seed,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new EngineException(e.Message, retryable: false, e);
        }
        return options;
    }

    public void Dispose() => Host.Dispose();
}

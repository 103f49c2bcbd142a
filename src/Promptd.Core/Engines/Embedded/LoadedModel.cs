using Promptd.Inference.Batching;
using Promptd.Inference.Chat;
using Promptd.Inference.Models;
using Promptd.Inference.Tokenization;

namespace Promptd.Core.Engines.Embedded;

/// <summary>
/// A model in memory with what generation needs beside the weights: its tokenizer, its chat
/// template, and the batch executor every generation of this model runs through — concurrent
/// prompts step together through one forward pass, and a prompt that starts like an earlier one
/// (a template's system prompt, a thread's earlier turns) reuses that prefix's KV cache.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    internal LoadedModel(string modelId, TransformerModel model, EmbeddedEngineOptions options)
    {
        ModelId = modelId;
        Model = model;
        Tokenizer = new Tokenizer(Vocabulary.FromMetadata(model.Metadata));
        Chat = ChatTemplateSelection.ForModel(Tokenizer.Vocabulary, options.ChatTemplate);
        ContextLength = ContextOf(model.Config, options);
        SequenceBytes = KvBytes(model.Config, ContextLength, options.KvCacheType);
        Executor = new BatchExecutor(model, Tokenizer, new BatchExecutorOptions
        {
            MaxSequences = options.MaxSequencesPerModel,
            ContextLength = ContextLength,
            KvCacheType = options.KvCacheType,
            PrefixCache = true,
        });
    }

    public string ModelId { get; }
    public TransformerModel Model { get; }
    public Tokenizer Tokenizer { get; }
    public ChatTemplateSelection Chat { get; }
    public int ContextLength { get; }
    public BatchExecutor Executor { get; }

    /// <summary>Bytes one sequence's KV cache takes.</summary>
    public long SequenceBytes { get; }

    internal static int ContextOf(ModelConfig config, EmbeddedEngineOptions options) =>
        options.ContextLength ?? Math.Min(config.TrainedContextLength, InferenceSessionOptions.DefaultMaxContextLength);

    /// <summary>K and V for every layer and position: the memory one sequence adds to the mapped weights.</summary>
    public static long KvBytes(ModelConfig config, int contextLength, KvCacheType type) =>
        2L * config.LayerCount * contextLength * config.KvLength * (type == KvCacheType.F32 ? 4 : 2);

    public void Dispose()
    {
        // The executor holds a reference to the model: the mapping closes when both let go.
        Executor.Dispose();
        Model.Dispose();
    }
}

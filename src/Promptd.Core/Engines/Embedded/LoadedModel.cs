using System.Collections.Concurrent;
using Promptd.Inference.Chat;
using Promptd.Inference.Models;
using Promptd.Inference.Tokenization;

namespace Promptd.Core.Engines.Embedded;

/// <summary>
/// A model in memory with what generation needs beside the weights: its tokenizer, its chat
/// template, and a few reusable sessions (a session's KV cache is the costly allocation).
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private readonly ConcurrentBag<TransformerSession> _idleSessions = [];
    private readonly InferenceSessionOptions _sessionOptions;
    private readonly int _maxIdleSessions;

    internal LoadedModel(string modelId, TransformerModel model, EmbeddedEngineOptions options)
    {
        ModelId = modelId;
        Model = model;
        Tokenizer = new Tokenizer(Vocabulary.FromMetadata(model.Metadata));
        Chat = ChatTemplateSelection.ForModel(Tokenizer.Vocabulary, options.ChatTemplate);
        _sessionOptions = new InferenceSessionOptions { KvCacheType = options.KvCacheType, ContextLength = options.ContextLength };
        _maxIdleSessions = options.IdleSessionsPerModel;
        ContextLength = _sessionOptions.ContextLength ?? Math.Min(model.Config.TrainedContextLength, InferenceSessionOptions.DefaultMaxContextLength);
        SessionBytes = KvBytes(model.Config, ContextLength, options.KvCacheType);
    }

    public string ModelId { get; }
    public TransformerModel Model { get; }
    public Tokenizer Tokenizer { get; }
    public ChatTemplateSelection Chat { get; }
    public int ContextLength { get; }

    /// <summary>Bytes one session's KV cache takes.</summary>
    public long SessionBytes { get; }

    /// <summary>A session with an empty cache; give it back with <see cref="ReturnSession"/>.</summary>
    public TransformerSession RentSession()
    {
        if (_idleSessions.TryTake(out var session)) return session;
        return Model.CreateSession(_sessionOptions);
    }

    public void ReturnSession(TransformerSession session)
    {
        session.Rewind(0);
        if (_idleSessions.Count < _maxIdleSessions) _idleSessions.Add(session);
        else session.Dispose();
    }

    /// <summary>K and V for every layer and position: the memory one session adds to the mapped weights.</summary>
    public static long KvBytes(ModelConfig config, int contextLength, KvCacheType type) =>
        2L * config.LayerCount * contextLength * config.KvLength * (type == KvCacheType.F32 ? 4 : 2);

    public void Dispose()
    {
        while (_idleSessions.TryTake(out var session)) session.Dispose();
        Model.Dispose();
    }
}

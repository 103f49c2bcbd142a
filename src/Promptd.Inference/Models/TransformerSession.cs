namespace Promptd.Inference.Models;

/// <summary>
/// One sequence's forward pass over a <see cref="TransformerModel"/>, with its own KV cache. Every
/// buffer is allocated here, once; evaluating tokens allocates nothing. Not thread-safe: one
/// session serves one sequence at a time (the model behind it can be shared). The arithmetic is
/// <see cref="ForwardPass"/>'s; the matrix work runs on the model's worker pool.
/// </summary>
public sealed class TransformerSession : IInferenceSession
{
    private readonly TransformerModel _model;
    private readonly KvCache _cache;
    private readonly ForwardPass _pass;
    private readonly SequenceSlice[] _slice = new SequenceSlice[1];
    private readonly int[] _rows; // 0 … batch−1, the rows whose logits a pass returns
    private bool _disposed;

    internal TransformerSession(TransformerModel model, InferenceSessionOptions options)
    {
        _model = model;
        var c = model.Config;
        int context = options.ContextLength ?? Math.Min(c.TrainedContextLength, InferenceSessionOptions.DefaultMaxContextLength);
        if (context <= 0) throw new ArgumentOutOfRangeException(nameof(options), $"context length {context} must be positive");
        if (options.BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), $"batch size {options.BatchSize} must be positive");
        ContextLength = context;
        KvCacheType = options.KvCacheType;
        int batch = Math.Min(options.BatchSize, context);
        _cache = new KvCache(options.KvCacheType, c.LayerCount, context, c.KvHeadCount, c.HeadDimension);
        _pass = new ForwardPass(model, batch, context, options.KvCacheType);
        _rows = new int[batch];
        for (int i = 0; i < batch; i++) _rows[i] = i;
    }

    public int VocabSize => _model.Config.VocabSize;
    public int ContextLength { get; }
    public int Position { get; private set; }
    public KvCacheType KvCacheType { get; }
    public TransformerModel Model => _model;

    public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int n = tokens.Length, vocab = VocabSize;
        if (n == 0) throw new ArgumentException("no tokens to evaluate", nameof(tokens));
        bool everyToken = logits.Length == (long)n * vocab;
        if (!everyToken && logits.Length != vocab)
            throw new ArgumentException($"logits must hold {vocab} values (last token) or {(long)n * vocab} (every token), not {logits.Length}", nameof(logits));
        if (n > ContextLength - Position)
            throw new ArgumentException($"{n} more tokens after {Position} do not fit the context of {ContextLength}", nameof(tokens));
        foreach (int token in tokens)
        {
            if ((uint)token >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {token} is outside the vocabulary (0..{vocab - 1})");
        }

        for (int start = 0; start < n; start += _pass.Capacity)
        {
            int count = Math.Min(_pass.Capacity, n - start);
            _slice[0] = new SequenceSlice { Cache = _cache, Start = Position, Count = count, Offset = 0 };
            _pass.Run(tokens.Slice(start, count), _slice);
            Position += count;
            if (everyToken) _pass.ComputeLogits(_rows.AsSpan(0, count), logits.Slice(start * vocab, count * vocab));
            else if (start + count == n) _pass.ComputeLogits(_rows.AsSpan(count - 1, 1), logits);
        }
    }

    public void Rewind(int position)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (position < 0 || position > Position)
            throw new ArgumentOutOfRangeException(nameof(position), $"cannot rewind to {position}: the cache holds {Position} tokens");
        Position = position;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _model.Release();
    }
}

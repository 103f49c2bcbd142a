using Promptd.Inference.Kernels;

namespace Promptd.Inference.Models;

/// <summary>
/// One sequence's forward pass over a <see cref="TransformerModel"/>, with its own KV cache. Every
/// buffer is allocated here, once; evaluating tokens allocates nothing. Not thread-safe: one
/// session serves one sequence at a time (the model behind it can be shared).
///
/// The arithmetic follows llama.cpp's CPU backend so that logits agree within ~1e-3: activations
/// are converted to each weight's activation format (Q8_0/Q8_1/Q8_K, F16, BF16) before its matrix
/// product, RMSNorm sums squares in double, RoPE angles are built by repeated multiplication, and
/// with an F16 cache the query and the attention weights are rounded to F16 for the two attention
/// products.
/// </summary>
public sealed class TransformerSession : IInferenceSession
{
    private readonly TransformerModel _model;
    private readonly ModelConfig _config;
    private readonly IMatrixKernels _kernels;
    private readonly KvCache _cache;
    private readonly int _batch;

    // Activations of up to _batch tokens, row-major [token][feature].
    private readonly float[] _x;      // residual stream
    private readonly float[] _xb;     // normed input / projection output
    private readonly float[] _q, _k, _v;
    private readonly float[] _attention;
    private readonly float[] _gate, _up;
    private readonly float[] _scores; // one head's attention weights
    private readonly float[] _rope;   // per token: cos, sin of each dimension pair
    private readonly byte[] _scratch; // activations converted for the kernels
    private bool _disposed;

    internal TransformerSession(TransformerModel model, InferenceSessionOptions options)
    {
        _model = model;
        _config = model.Config;
        _kernels = model.Kernels;
        var c = _config;

        int context = options.ContextLength ?? Math.Min(c.TrainedContextLength, InferenceSessionOptions.DefaultMaxContextLength);
        if (context <= 0) throw new ArgumentOutOfRangeException(nameof(options), $"context length {context} must be positive");
        if (options.BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), $"batch size {options.BatchSize} must be positive");
        ContextLength = context;
        _batch = Math.Min(options.BatchSize, context);
        KvCacheType = options.KvCacheType;
        _cache = new KvCache(options.KvCacheType, c.LayerCount, context, c.KvHeadCount, c.HeadDimension);

        _x = Floats(c.EmbeddingLength);
        _xb = Floats(c.EmbeddingLength);
        _q = Floats(c.QueryLength);
        _k = Floats(c.KvLength);
        _v = Floats(c.KvLength);
        _attention = Floats(c.QueryLength);
        _gate = Floats(c.FeedForwardLength);
        _up = Floats(c.FeedForwardLength);
        _rope = Floats(c.HeadDimension);
        _scores = new float[context];
        // Every activation format takes at most 4 bytes per value (F32).
        int widest = Math.Max(c.EmbeddingLength, Math.Max(c.FeedForwardLength, c.QueryLength));
        _scratch = new byte[Checked(4 * Math.Max((long)_batch * widest, context))];
    }

    /// <summary>A buffer of <paramref name="width"/> floats for each token of a batch.</summary>
    private float[] Floats(int width) => new float[Checked((long)_batch * width)];

    private long Checked(long length) => length <= Array.MaxLength
        ? length
        : throw new ArgumentOutOfRangeException("options", $"a batch of {_batch} tokens needs buffers too large for this model");

    public int VocabSize => _config.VocabSize;
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

        for (int start = 0; start < n; start += _batch)
        {
            int count = Math.Min(_batch, n - start);
            Forward(tokens.Slice(start, count));
            if (everyToken) ComputeLogits(0, count, logits.Slice(start * vocab, count * vocab));
            else if (start + count == n) ComputeLogits(count - 1, 1, logits);
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

    /// <summary>Runs the transformer over <paramref name="tokens"/> at the next positions and appends them to the KV cache.</summary>
    private void Forward(ReadOnlySpan<int> tokens)
    {
        var c = _config;
        int n = tokens.Length, e = c.EmbeddingLength, start = Position;
        for (int t = 0; t < n; t++) _model.TokenEmbedding.DequantizeRow(tokens[t], _x.AsSpan(t * e, e));
        Rope.ComputeAngles(start, n, c, _model.RopeFrequencyFactors, _rope);

        for (int l = 0; l < c.LayerCount; l++)
        {
            var layer = _model.Layers[l];

            // Attention block.
            RmsNorm(_x, _xb, layer.AttentionNorm, n);
            Project(layer.Query, _xb, _q, n, layer.QueryBias);
            Project(layer.Key, _xb, _k, n, layer.KeyBias);
            Project(layer.Value, _xb, _v, n, layer.ValueBias);
            Rope.Apply(_q, c.HeadCount, n, c, _rope);
            Rope.Apply(_k, c.KvHeadCount, n, c, _rope);
            _cache.Store(l, start, n, _k, _v);
            Attend(l, start, n);
            Project(layer.Output, _attention, _xb, n, layer.OutputBias);
            Add(_x, _xb, n * e);

            // Feed-forward block: down(silu(gate(x)) · up(x)).
            RmsNorm(_x, _xb, layer.FfnNorm, n);
            Project(layer.Gate, _xb, _gate, n, null);
            Project(layer.Up, _xb, _up, n, null);
            int f = n * c.FeedForwardLength;
            for (int i = 0; i < f; i++) _gate[i] = Silu(_gate[i]) * _up[i];
            Project(layer.Down, _gate, _xb, n, null);
            Add(_x, _xb, n * e);
        }
        Position = start + n;
    }

    /// <summary>Causal attention of each new token over the cache, one head at a time.</summary>
    private void Attend(int layer, int start, int n)
    {
        var c = _config;
        int d = c.HeadDimension, group = c.HeadCount / c.KvHeadCount;
        float scale = 1.0f / MathF.Sqrt(d);
        for (int t = 0; t < n; t++)
        {
            int positions = start + t + 1;
            var scores = _scores.AsSpan(0, positions);
            for (int h = 0; h < c.HeadCount; h++)
            {
                int at = (t * c.HeadCount + h) * d;
                _kernels.MatVec(_cache.Keys(layer, h / group, positions), _q.AsSpan(at, d), scores, _scratch);
                Softmax(scores, scale);
                _kernels.MatVec(_cache.ValuesTransposed(layer, h / group, positions), scores, _attention.AsSpan(at, d), _scratch);
            }
        }
    }

    /// <summary>Final norm and output projection of <paramref name="rows"/> tokens from <paramref name="first"/>.</summary>
    private void ComputeLogits(int first, int rows, Span<float> logits)
    {
        int e = _config.EmbeddingLength;
        RmsNorm(_x.AsSpan(first * e, rows * e), _xb, _model.OutputNorm, rows);
        _kernels.MatMul(_model.Output, _xb.AsSpan(0, rows * e), rows, logits, _scratch);
    }

    private void Project(in MatrixView weights, ReadOnlySpan<float> input, Span<float> output, int n, float[]? bias)
    {
        _kernels.MatMul(weights, input[..(n * weights.Columns)], n, output, _scratch);
        if (bias is null) return;
        for (int t = 0; t < n; t++)
        {
            var row = output.Slice(t * bias.Length, bias.Length);
            for (int i = 0; i < bias.Length; i++) row[i] += bias[i];
        }
    }

    /// <summary>RMSNorm as ggml computes it: the mean of squares summed in double, then x·(1/√(mean+ε))·w.</summary>
    private void RmsNorm(ReadOnlySpan<float> input, Span<float> output, float[] weight, int n)
    {
        int e = weight.Length;
        float eps = _config.RmsNormEpsilon;
        for (int t = 0; t < n; t++)
        {
            var x = input.Slice(t * e, e);
            var y = output.Slice(t * e, e);
            double sum = 0;
            for (int i = 0; i < e; i++) sum += x[i] * x[i];
            float mean = (float)(sum / e);
            float scale = 1.0f / MathF.Sqrt(mean + eps);
            for (int i = 0; i < e; i++) y[i] = x[i] * scale * weight[i];
        }
    }

    /// <summary>Softmax of scale·x in place, as ggml's soft_max: exponentials summed in double.</summary>
    private static void Softmax(Span<float> x, float scale)
    {
        float max = float.NegativeInfinity;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] *= scale;
            max = MathF.Max(max, x[i]);
        }
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }
        float inverse = (float)(1.0 / sum);
        for (int i = 0; i < x.Length; i++) x[i] *= inverse;
    }

    private static float Silu(float x) => x / (1.0f + MathF.Exp(-x));

    private static void Add(Span<float> x, ReadOnlySpan<float> y, int n)
    {
        for (int i = 0; i < n; i++) x[i] += y[i];
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Promptd.Inference.Kernels;

namespace Promptd.Inference.Models;

/// <summary>Tokens of one sequence inside a batch: positions Start … Start+Count−1 of its cache, rows Offset … of the batch.</summary>
internal struct SequenceSlice
{
    public KvCache Cache;
    public int Start;
    public int Count;
    public int Offset;
}

/// <summary>
/// The transformer over a batch of tokens that may belong to several sequences, each with its own
/// KV cache and positions. Every matrix product runs once for all tokens of the batch — the weights
/// are read once per pass whatever the number of sequences — split across the model's worker
/// pool; attention runs per token and KV head against the token's own cache. Buffers are allocated
/// here, once, for <see cref="Capacity"/> tokens; a pass allocates nothing.
///
/// The arithmetic follows llama.cpp's CPU backend so that logits agree within ~1e-3: activations
/// are converted to each weight's activation format (Q8_0/Q8_1/Q8_K, F16, BF16) before its matrix
/// product, RMSNorm sums squares in double, RoPE angles are built by repeated multiplication, and
/// with an F16 cache the query and the attention weights are rounded to F16 for the two attention
/// products. A token's results do not depend on the other tokens of its batch.
/// </summary>
internal sealed unsafe class ForwardPass
{
    private readonly TransformerModel _model;
    private readonly ModelConfig _config;
    private readonly IMatrixKernels _kernels;

    // Activations of up to Capacity tokens, row-major [token][feature].
    private readonly float[] _x;      // residual stream
    private readonly float[] _xb;     // normed input / projection output
    private readonly float[] _q, _k, _v;
    private readonly float[] _attention;
    private readonly float[] _gate, _up;
    private readonly float[] _rope;   // per token: cos, sin of each dimension pair
    private readonly int[] _positions;
    private readonly KvCache?[] _caches; // per token: its sequence's cache

    private readonly MatMulWork _matMul;
    private readonly AttentionWork _attend;
    private readonly SwiGluWork _swiGlu;

    /// <param name="capacity">Most tokens in one pass.</param>
    /// <param name="maxContext">The longest cache any sequence of a batch has.</param>
    /// <param name="cacheType">The element type of those caches.</param>
    public ForwardPass(TransformerModel model, int capacity, int maxContext, KvCacheType cacheType)
    {
        _model = model;
        _config = model.Config;
        _kernels = model.Kernels;
        Capacity = capacity;
        var c = _config;
        _x = Floats(c.EmbeddingLength);
        _xb = Floats(c.EmbeddingLength);
        _q = Floats(c.QueryLength);
        _k = Floats(c.KvLength);
        _v = Floats(c.KvLength);
        _attention = Floats(c.QueryLength);
        _gate = Floats(c.FeedForwardLength);
        _up = Floats(c.FeedForwardLength);
        _rope = Floats(c.HeadDimension);
        _positions = new int[capacity];
        _caches = new KvCache?[capacity];

        var layer = model.Layers[0];
        int qkvBytes = Math.Max(ActivationBytes(layer.Query), Math.Max(ActivationBytes(layer.Key), ActivationBytes(layer.Value)));
        int ffnBytes = Math.Max(ActivationBytes(layer.Gate), ActivationBytes(layer.Up));
        int widest = Math.Max(qkvBytes, Math.Max(ffnBytes, Math.Max(ActivationBytes(layer.Output), Math.Max(ActivationBytes(layer.Down), ActivationBytes(model.Output)))));
        _matMul = new MatMulWork(model, widest);
        _attend = new AttentionWork(model, Pointer(_q), Pointer(_attention), _positions, _caches, maxContext, cacheType);
        _swiGlu = new SwiGluWork(model.Pool, Pointer(_gate), Pointer(_up));
    }

    /// <summary>Most tokens one pass takes.</summary>
    public int Capacity { get; }

    private int ActivationBytes(in MatrixView matrix) => _kernels.ActivationBytes(matrix, Capacity);

    /// <summary>A pinned buffer of <paramref name="width"/> floats per token: the worker pool's work holds pointers into it.</summary>
    private float[] Floats(int width)
    {
        long length = (long)Capacity * width;
        if (length > Array.MaxLength) throw new ArgumentOutOfRangeException("options", $"a batch of {Capacity} tokens needs buffers too large for this model");
        return GC.AllocateArray<float>((int)length, pinned: true);
    }

    private static float* Pointer(float[] pinned) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));

    /// <summary>
    /// Runs the transformer over <paramref name="tokens"/>, which <paramref name="slices"/> split
    /// into sequences (in order, covering every token), and appends each sequence's keys and values
    /// to its cache. The hidden states stay here for <see cref="ComputeLogits"/>.
    /// </summary>
    public void Run(ReadOnlySpan<int> tokens, ReadOnlySpan<SequenceSlice> slices)
    {
        var c = _config;
        int n = tokens.Length, e = c.EmbeddingLength, d = c.HeadDimension;
        if (n > Capacity) throw new ArgumentException($"{n} tokens do not fit a pass of {Capacity}", nameof(tokens));
        for (int t = 0; t < n; t++) _model.TokenEmbedding.DequantizeRow(tokens[t], _x.AsSpan(t * e, e));
        foreach (var slice in slices)
        {
            Rope.ComputeAngles(slice.Start, slice.Count, c, _model.RopeFrequencyFactors, _rope.AsSpan(slice.Offset * d, slice.Count * d));
            for (int i = 0; i < slice.Count; i++)
            {
                _positions[slice.Offset + i] = slice.Start + i;
                _caches[slice.Offset + i] = slice.Cache;
            }
        }

        for (int l = 0; l < c.LayerCount; l++)
        {
            var layer = _model.Layers[l];

            // Attention block.
            RmsNorm(_x, _xb, layer.AttentionNorm, n);
            _matMul.Project(Pointer(_xb), n, layer.Query, Pointer(_q), layer.Key, Pointer(_k), layer.Value, Pointer(_v));
            AddBias(_q, layer.QueryBias, n);
            AddBias(_k, layer.KeyBias, n);
            AddBias(_v, layer.ValueBias, n);
            Rope.Apply(_q, c.HeadCount, n, c, _rope);
            Rope.Apply(_k, c.KvHeadCount, n, c, _rope);
            foreach (var slice in slices)
            {
                int kv = c.KvLength;
                slice.Cache.Store(l, slice.Start, slice.Count, _k.AsSpan(slice.Offset * kv, slice.Count * kv), _v.AsSpan(slice.Offset * kv, slice.Count * kv));
            }
            _attend.Attend(l, n);
            _matMul.Project(Pointer(_attention), n, layer.Output, Pointer(_xb));
            AddBias(_xb, layer.OutputBias, n);
            Add(_x, _xb, n * e);

            // Feed-forward block: down(silu(gate(x)) · up(x)).
            RmsNorm(_x, _xb, layer.FfnNorm, n);
            _matMul.Project(Pointer(_xb), n, layer.Gate, Pointer(_gate), layer.Up, Pointer(_up));
            _swiGlu.Apply(n * c.FeedForwardLength);
            _matMul.Project(Pointer(_gate), n, layer.Down, Pointer(_xb));
            Add(_x, _xb, n * e);
        }
        Array.Clear(_caches, 0, n);
    }

    /// <summary>Final norm and output projection of the batch rows <paramref name="rows"/>: logits is rows × vocab.</summary>
    public void ComputeLogits(ReadOnlySpan<int> rows, Span<float> logits)
    {
        int e = _config.EmbeddingLength;
        for (int i = 0; i < rows.Length; i++)
            RmsNorm(_x.AsSpan(rows[i] * e, e), _xb.AsSpan(i * e, e), _model.OutputNorm, 1);
        if (logits.Length < (long)rows.Length * _config.VocabSize) throw new ArgumentException($"{rows.Length} rows of logits need {(long)rows.Length * _config.VocabSize} values", nameof(logits));
        fixed (float* output = logits) _matMul.Project(Pointer(_xb), rows.Length, _model.Output, output);
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

    private static void AddBias(float[] output, float[]? bias, int n)
    {
        if (bias is null) return;
        for (int t = 0; t < n; t++)
        {
            var row = output.AsSpan(t * bias.Length, bias.Length);
            for (int i = 0; i < bias.Length; i++) row[i] += bias[i];
        }
    }

    private static void Add(Span<float> x, ReadOnlySpan<float> y, int n)
    {
        for (int i = 0; i < n; i++) x[i] += y[i];
    }
}

using Promptd.Inference.Gguf;
using Promptd.Inference.Kernels;
using Promptd.Inference.Threading;

namespace Promptd.Inference.Models;

/// <summary>
/// A decoder-only transformer loaded from a GGUF file (architectures in <see cref="ModelArchitecture"/>).
/// Weight matrices stay quantized inside the memory-mapped file; the model is read-only after
/// loading, so any number of sessions on any threads can share it. The file stays mapped until the
/// model and every session created from it are disposed.
///
/// The SIMD kernels rearrange quantized weights for their loads (<see cref="IMatrixKernels.Prepare"/>);
/// on Linux each such matrix is copied into a huge-page <see cref="WeightArena"/> and the file's pages
/// it came from are dropped; elsewhere the file is mapped copy-on-write and rearranged in place.
/// Either way the model holds each weight once. The model owns a <see cref="WorkerPool"/> that its
/// sessions share for the matrix work.
/// </summary>
public sealed class TransformerModel : IDisposable
{
    private readonly GgufFile _file;
    private readonly WeightArena? _arena;
    private int _references = 1; // the model itself plus one per open session

    private TransformerModel(GgufFile file, IMatrixKernels kernels, WeightArena? arena)
    {
        _file = file;
        _arena = arena;
        Kernels = kernels;
        Config = ModelConfig.FromMetadata(file.Metadata);

        var c = Config;
        var w = new WeightLoader(file, kernels, arena);
        TokenEmbedding = w.Matrix("token_embd.weight", c.EmbeddingLength, c.VocabSize, prepare: false);
        OutputNorm = w.Vector("output_norm.weight", c.EmbeddingLength);
        // Without output.weight the output projection is the token embedding (tied weights); then the
        // embedding rows are read through the kernels' layout too.
        Output = w.OptionalMatrix("output.weight", c.EmbeddingLength, c.VocabSize) ?? w.Prepare("token_embd.weight", TokenEmbedding);
        if (HasTiedOutput) TokenEmbedding = Output;
        RopeFrequencyFactors = w.OptionalVector("rope_freqs.weight", c.HeadDimension / 2);

        var arch = c.Architecture;
        Layers = new LayerWeights[c.LayerCount];
        for (int i = 0; i < Layers.Length; i++)
        {
            string p = $"blk.{i}.";
            Layers[i] = new LayerWeights
            {
                AttentionNorm = w.Vector(p + "attn_norm.weight", c.EmbeddingLength),
                Query = w.Matrix(p + "attn_q.weight", c.EmbeddingLength, c.QueryLength),
                Key = w.Matrix(p + "attn_k.weight", c.EmbeddingLength, c.KvLength),
                Value = w.Matrix(p + "attn_v.weight", c.EmbeddingLength, c.KvLength),
                Output = w.Matrix(p + "attn_output.weight", c.QueryLength, c.EmbeddingLength),
                QueryBias = w.Bias(arch.QkvBias, p + "attn_q.bias", c.QueryLength),
                KeyBias = w.Bias(arch.QkvBias, p + "attn_k.bias", c.KvLength),
                ValueBias = w.Bias(arch.QkvBias, p + "attn_v.bias", c.KvLength),
                OutputBias = w.Bias(arch.OutputProjectionBias, p + "attn_output.bias", c.EmbeddingLength),
                FfnNorm = w.Vector(p + "ffn_norm.weight", c.EmbeddingLength),
                Gate = w.Matrix(p + "ffn_gate.weight", c.EmbeddingLength, c.FeedForwardLength),
                Up = w.Matrix(p + "ffn_up.weight", c.EmbeddingLength, c.FeedForwardLength),
                Down = w.Matrix(p + "ffn_down.weight", c.FeedForwardLength, c.EmbeddingLength),
            };
        }
    }

    /// <summary>
    /// Opens and checks a model. Throws FileNotFoundException, InvalidDataException (corrupt file,
    /// missing tensor, wrong shape — the message names it) or NotSupportedException (an architecture,
    /// tensor type, option or forced kernel path this engine or CPU does not implement).
    /// </summary>
    public static TransformerModel Load(string path, ModelOptions? options = null)
    {
        options ??= new ModelOptions();
        int threads = options.Threads ?? Environment.ProcessorCount;
        if (threads <= 0) throw new ArgumentOutOfRangeException(nameof(options), $"threads must be positive, not {threads}");
        var kernels = KernelPaths.Create(options.Kernels);
        // Rearranged weights go to a huge-page arena where the platform has one, else they are
        // rearranged in place in a copy-on-write mapping of the file.
        bool rearranges = kernels.Path != KernelPath.Scalar;
        var arena = rearranges && WeightArena.Supported ? new WeightArena() : null;
        var file = GgufFile.Open(path, copyOnWrite: rearranges && arena is null);
        try
        {
            var model = new TransformerModel(file, kernels, arena);
            model.Pool = new WorkerPool(threads);
            return model;
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            file.Dispose();
            arena?.Dispose();
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        catch
        {
            file.Dispose();
            arena?.Dispose();
            throw;
        }
    }

    public string Path => _file.Path;
    public ModelConfig Config { get; }

    /// <summary>All GGUF metadata, for the tokenizer and chat template.</summary>
    public GgufMetadata Metadata => _file.Metadata;

    public IMatrixKernels Kernels { get; }

    /// <summary>The threads that run the matrix work of this model's sessions.</summary>
    public WorkerPool Pool { get; private set; } = null!;

    internal MatrixView TokenEmbedding { get; }
    internal MatrixView Output { get; }
    internal float[] OutputNorm { get; }
    internal float[]? RopeFrequencyFactors { get; }
    internal LayerWeights[] Layers { get; }

    /// <summary>The types of the weight matrices, most common first (e.g. Q4_K, Q6_K).</summary>
    public IReadOnlyList<string> WeightTypes =>
        [.. Layers.SelectMany(l => new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down }).Append(Output)
            .GroupBy(m => m.Type.Name).OrderByDescending(g => g.Count()).Select(g => g.Key)];

    /// <summary>True when the output projection reuses the token embedding.</summary>
    public bool HasTiedOutput => _file.FindTensor("output.weight") is null;

    /// <summary>A new session with its own KV cache and buffers.</summary>
    public TransformerSession CreateSession(InferenceSessionOptions? options = null)
    {
        AddReference();
        try
        {
            return new TransformerSession(this, options ?? new InferenceSessionOptions());
        }
        catch
        {
            Release();
            throw;
        }
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Release();
    }

    internal void AddReference()
    {
        while (true)
        {
            int current = Volatile.Read(ref _references);
            if (current == 0 || _disposed) throw new ObjectDisposedException(nameof(TransformerModel));
            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current) return;
        }
    }

    /// <summary>Called by a session when it is disposed.</summary>
    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Pool?.Dispose();
            _file.Dispose();
            _arena?.Dispose();
        }
    }
}

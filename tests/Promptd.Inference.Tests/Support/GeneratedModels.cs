using System.Collections.Concurrent;
using Promptd.Inference.Gguf;
using Promptd.Inference.Synthetic;

namespace Promptd.Inference.Tests.Support;

/// <summary>
/// Small synthetic models written once per test run with the project's own writer, shared by the
/// test classes, and deleted when the process exits.
/// </summary>
public static class GeneratedModels
{
    private static readonly TempDirectory Folder = new();
    private static readonly ConcurrentDictionary<string, Lazy<string>> Files = new();

    static GeneratedModels() => AppDomain.CurrentDomain.ProcessExit += (_, _) => Folder.Dispose();

    /// <summary>A small shape (n_embd 64, 4 heads, 2 KV heads, n_ff 128, vocab 300) with weights large enough that attention and RoPE matter.</summary>
    public static SyntheticModelSpec Small { get; } = new()
    {
        EmbeddingLength = 64, HeadCount = 4, KvHeadCount = 2, FeedForwardLength = 128, LayerCount = 2,
        VocabSize = 300, ContextLength = 64, Sigma = 0.05f, QueryKeySigma = 0.2f,
    };

    /// <summary>The small shape widened to whole 256-value blocks, for the K-quants.</summary>
    public static SyntheticModelSpec SmallK { get; } = Small with { EmbeddingLength = 256, FeedForwardLength = 256 };

    /// <summary>Path of the model named <paramref name="name"/>, written from <paramref name="spec"/> on first use.</summary>
    public static string Get(string name, SyntheticModelSpec spec, Action<GgufWriter>? edit = null) =>
        Files.GetOrAdd(name, n => new Lazy<string>(() =>
        {
            string path = Folder.File(n + ".gguf");
            var writer = SyntheticModel.CreateWriter(spec);
            edit?.Invoke(writer);
            writer.WriteFile(path);
            return path;
        })).Value;
}

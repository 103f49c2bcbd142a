using Promptd.Inference.Gguf;
using Promptd.Inference.Synthetic;

namespace Promptd.Server.Tests.Support;

/// <summary>Real GGUF models for tests, written with the project's GGUF writer into a data folder's models/.</summary>
public static class TestModels
{
    /// <summary>A tiny qwen2-shaped model (ChatML template, byte-level BPE vocabulary), 8-bit weights.</summary>
    public const string Tiny = "huggingface/test/tiny-qwen2/tiny-qwen2-Q8_0.gguf";

    public static SyntheticModelSpec TinySpec { get; } = SyntheticModelSpec.Tiny with { Architecture = "qwen2", WeightType = GgmlType.Q8_0, Seed = 11 };

    /// <summary>Writes the model as <paramref name="modelId"/> under <paramref name="dataDirectory"/>/models; returns the file's path.</summary>
    public static string Install(string dataDirectory, string modelId = Tiny, SyntheticModelSpec? spec = null)
    {
        var path = Path.Combine([dataDirectory, "models", .. modelId.Split('/')]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SyntheticModel.Write(path, spec ?? TinySpec);
        return path;
    }

    /// <summary>The model's file as bytes (to serve from a download host).</summary>
    public static byte[] Bytes(SyntheticModelSpec? spec = null)
    {
        var path = Path.Combine(Path.GetTempPath(), "promptd-tests", Guid.NewGuid().ToString("N") + ".gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            SyntheticModel.Write(path, spec ?? TinySpec);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

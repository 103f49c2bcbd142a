using Promptd.Core.Models;
using Promptd.Inference.Gguf;
using Promptd.Inference.Synthetic;

namespace Promptd.Core.Tests.Engines.Embedded;

/// <summary>A temporary models folder holding two small generated models (and room for broken ones).</summary>
public sealed class EmbeddedModelsFolder : IDisposable
{
    public const string Llama = "huggingface/test/tiny-llama/tiny-llama-Q8_0.gguf";
    public const string Qwen = "huggingface/test/tiny-qwen2/tiny-qwen2-Q4_0.gguf";

    public EmbeddedModelsFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "promptd-embedded-" + Guid.NewGuid().ToString("N"));
        Folder = new ModelsFolder(Root);
        Write(Llama, SyntheticModelSpec.Tiny with { WeightType = GgmlType.Q8_0, Seed = 3 });
        Write(Qwen, SyntheticModelSpec.Tiny with { Architecture = "qwen2", WeightType = GgmlType.Q4_0, Seed = 4 });
    }

    public string Root { get; }
    public ModelsFolder Folder { get; }

    public string PathOf(string modelId) => Folder.PathOf(ModelId.Parse(modelId));

    public void Write(string modelId, SyntheticModelSpec spec)
    {
        var path = PathOf(modelId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SyntheticModel.Write(path, spec);
    }

    public long SizeOf(string modelId) => new FileInfo(PathOf(modelId)).Length;

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

using Promptd.Inference.Gguf;
using Promptd.TestSupport;

namespace Promptd.Inference.Tests;

public class GgufReaderFixtureTests
{
    [FixtureFact]
    public void Reads_metadata_and_tensors_of_a_fixture_model()
    {
        using var file = GgufFile.Open(Fixtures.Path("gguf", "tiny-qwen2-Q8_0.gguf"));
        Assert.Equal(3u, file.Version);
        Assert.Equal("qwen2", file.Metadata.GetString("general.architecture"));
        Assert.Equal(300, file.Metadata.GetArray<string>("tokenizer.ggml.tokens")!.Length);
        var embd = file.GetTensor("token_embd.weight");
        Assert.Equal(GgmlType.Q8_0, embd.Type);
        Assert.Equal([256L, 300L], embd.Dimensions);
        Assert.Equal(300 * 8 * 34, embd.ByteCount);
    }
}

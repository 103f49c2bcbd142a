using System.Runtime.InteropServices;
using Promptd.Inference.Gguf;
using Promptd.Inference.Tensors;
using Promptd.TestSupport;

namespace Promptd.Inference.Tests.Tensors;

/// <summary>
/// The fixtures' quantized models were made by llama-quantize (--pure) from the f32 models: the
/// reference quantizers here must reproduce every byte of every tensor.
/// </summary>
public class QuantizerFixtureTests
{
    public static TheoryData<string, string> Files()
    {
        var data = new TheoryData<string, string>();
        foreach (var family in new[] { "tiny-llama", "tiny-qwen2" })
            foreach (var type in new[] { "F16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q4_K_M", "Q5_K_M", "Q6_K" })
                data.Add(family, type);
        return data;
    }

    [FixtureTheory]
    [MemberData(nameof(Files))]
    public void Quantizing_the_f32_model_reproduces_llama_quantize_byte_for_byte(string family, string type)
    {
        using var source = GgufFile.Open(Fixtures.Path("gguf", family + "-f32.gguf"));
        using var quantized = GgufFile.Open(Fixtures.Path("gguf", $"{family}-{type}.gguf"));
        int compared = 0;
        foreach (var tensor in quantized.Tensors)
        {
            if (tensor.Type == GgmlType.F32) continue; // 1-D norms and biases are kept as they are
            var tensorType = TensorTypes.Get(tensor.Type);
            var values = MemoryMarshal.Cast<byte, float>(source.GetTensorData(source.GetTensor(tensor.Name)));
            int columns = (int)tensor.Columns, rowBytes = tensorType.RowBytes(columns);
            var mine = new byte[tensor.ByteCount];
            for (int r = 0; r < tensor.Rows; r++)
                tensorType.QuantizeRow(values.Slice(r * columns, columns), mine.AsSpan(r * rowBytes, rowBytes));
            Assert.True(quantized.GetTensorData(tensor).SequenceEqual(mine), $"{tensor.Name} ({tensorType.Name}) differs");
            compared++;
        }
        Assert.Equal(16, compared); // token_embd, output and 7 matrices in each of 2 layers
    }
}

using Promptd.Inference.Gguf;
using Promptd.Inference.Models;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Gguf;

/// <summary>Each kind of corrupt or hostile file fails with an InvalidDataException that names the problem and the file.</summary>
public class GgufCorruptionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A small valid file: a few metadata keys of several types and three tensors.</summary>
    private static GgufBytes Valid()
    {
        var writer = new GgufWriter()
            .Set("general.architecture", "llama")
            .Set("key.one", 1u)
            .Set("key.two", 2u)
            .Set("test.array", new[] { 1, 2, 3 })
            .Set("test.flag", true)
            .Set("test.strings", new[] { "alpha", "beta" })
            .AddTensor("tensor.a", GgmlType.F32, [8, 2], new byte[64])
            .AddTensor("tensor.b", GgmlType.F32, [4], new byte[16])
            .AddTensor("tensor.q", GgmlType.Q8_0, [32, 2], new byte[68]);
        return new GgufBytes(writer.ToArray());
    }

    private static int Dims(GgufBytes f, string tensor) => f.TensorInfo(tensor) + 4;

    public static TheoryData<string, Func<GgufBytes, GgufBytes>, string> Corruptions => new()
    {
        { "bad magic", f => f.Text(0, "GGML"), "bad magic" },
        { "version 1", f => f.U32(4, 1), "version 1 is not supported" },
        { "unknown version", f => f.U32(4, 99), "unsupported GGUF version 99" },
        { "big-endian file", f => f.U32(4, 0x03000000), "big-endian" },
        { "truncated header", f => f.Truncate(20), "too short for a GGUF header" },
        { "truncated metadata", f => f.Truncate(f.Find("test.strings") + 5), "string length 12 runs past the end of the file" },
        { "truncated tensor infos", f => f.Truncate(f.TensorInfo("tensor.q") + 6), "unexpected end of file" },
        { "truncated tensor data", f => f.Truncate(f.Bytes.Length - 40), "runs past the end of the file" },
        { "absurd metadata count", f => f.U64(16, 1UL << 60), "metadata count" },
        { "absurd tensor count", f => f.U64(8, 1UL << 40), "tensor count" },
        { "huge string length", f => f.U64(f.Find("test.strings") - 8, 1UL << 62), "string length" },
        { "huge array length", f => f.U64(f.KeyType("test.array") + 8, 1UL << 40), "cannot fit" },
        { "unknown value type", f => f.U32(f.KeyType("key.one"), 99), "unknown value type 99" },
        { "unknown array element type", f => f.U32(f.KeyType("test.array") + 4, 42), "array of unknown value type 42" },
        { "bool neither 0 nor 1", f => { f.Bytes[f.KeyType("test.flag") + 4] = 7; return f; }, "bool value 7" },
        { "duplicate metadata key", f => f.Text(f.Find("key.two"), "key.one"), "duplicate metadata key 'key.one'" },
        { "unknown tensor type", f => f.U32(Dims(f, "tensor.b") + 8, 99), "tensor 'tensor.b' has unknown type number 99" },
        { "too many dimensions", f => f.U32(f.TensorInfo("tensor.a"), 9), "tensor 'tensor.a' has 9 dimensions" },
        { "zero dimension", f => f.U64(Dims(f, "tensor.a"), 0), "dimension 0 of size 0" },
        { "huge dimension", f => f.U64(Dims(f, "tensor.a") + 8, 1UL << 40), "dimension 1 of size 1099511627776" },
        { "row not whole blocks", f => f.U64(Dims(f, "tensor.q"), 33), "not a multiple of the Q8_0 block size 32" },
        { "offset past the end", f => f.U64(Dims(f, "tensor.b") + 12, 1UL << 40), "tensor 'tensor.b' data" },
        { "misaligned offset", f => f.U64(Dims(f, "tensor.q") + 20, 68), "not aligned to 32" },
        { "duplicate tensor name", f => f.Text(f.Find("tensor.b"), "tensor.a"), "duplicate tensor name 'tensor.a'" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Corrupt_files_fail_with_a_clear_message(string kind, Func<GgufBytes, GgufBytes> corrupt, string expected)
    {
        string path = _dir.File(kind.Replace(' ', '-') + ".gguf");
        File.WriteAllBytes(path, corrupt(Valid()).Bytes);
        var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(path, e.Message);
    }

    [Fact]
    public void The_valid_base_file_opens()
    {
        string path = _dir.File("valid.gguf");
        File.WriteAllBytes(path, Valid().Bytes);
        using var file = GgufFile.Open(path);
        Assert.Equal(3, file.Tensors.Count);
    }

    [Fact]
    public void Alignment_that_is_not_a_power_of_two_is_rejected()
    {
        string path = _dir.File("alignment.gguf");
        new GgufWriter().Set("general.alignment", 48u).WriteFile(path);
        Assert.Contains("general.alignment 48 is not a power of two", Assert.Throws<InvalidDataException>(() => GgufFile.Open(path)).Message);
    }

    [Fact]
    public void Deeply_nested_arrays_are_rejected()
    {
        object nested = new[] { 1 };
        for (int i = 0; i < 12; i++) nested = new object[] { nested };
        string path = _dir.File("nested.gguf");
        new GgufWriter().Set("deep", (Array)nested).WriteFile(path);
        Assert.Contains("nested too deeply", Assert.Throws<InvalidDataException>(() => GgufFile.Open(path)).Message);
    }

    [Fact]
    public void A_missing_file_is_a_FileNotFoundException()
    {
        var e = Assert.Throws<FileNotFoundException>(() => GgufFile.Open(_dir.File("absent.gguf")));
        Assert.Contains("absent.gguf", e.Message);
    }

    // Model-level problems: the file is a valid GGUF but not a model this engine can run.

    private string Model(string name, Action<GgufWriter> edit)
    {
        var writer = Promptd.Inference.Synthetic.SyntheticModel.CreateWriter(GeneratedModels.Small with { LayerCount = 2 });
        edit(writer);
        string path = _dir.File(name + ".gguf");
        writer.WriteFile(path);
        return path;
    }

    [Fact]
    public void A_missing_required_tensor_is_named()
    {
        string path = Model("missing", w => w.RemoveTensor("blk.1.ffn_up.weight"));
        var e = Assert.Throws<InvalidDataException>(() => TransformerModel.Load(path));
        Assert.Contains("tensor 'blk.1.ffn_up.weight' is missing", e.Message);
        Assert.StartsWith(path, e.Message);
    }

    [Fact]
    public void A_missing_qwen2_bias_is_named()
    {
        var writer = Promptd.Inference.Synthetic.SyntheticModel.CreateWriter(GeneratedModels.Small with { Architecture = "qwen2" });
        writer.RemoveTensor("blk.0.attn_k.bias");
        string path = _dir.File("nobias.gguf");
        writer.WriteFile(path);
        Assert.Contains("tensor 'blk.0.attn_k.bias' is missing", Assert.Throws<InvalidDataException>(() => TransformerModel.Load(path)).Message);
    }

    [Fact]
    public void A_tensor_of_the_wrong_shape_is_named_with_both_shapes()
    {
        string path = Model("shape", w =>
        {
            w.RemoveTensor("blk.0.attn_q.weight");
            w.AddTensor("blk.0.attn_q.weight", GgmlType.F32, [64, 32], new float[64 * 32]);
        });
        var e = Assert.Throws<InvalidDataException>(() => TransformerModel.Load(path));
        Assert.Contains("tensor 'blk.0.attn_q.weight' has shape [64, 32], expected [64, 64]", e.Message);
    }

    [Fact]
    public void A_weight_of_an_unsupported_type_is_named()
    {
        string path = Model("iq", w =>
        {
            w.RemoveTensor("blk.0.ffn_gate.weight");
            w.AddTensor("blk.0.ffn_gate.weight", GgmlType.IQ4_NL, [64, 128], new byte[128 * 2 * 18]);
        });
        var e = Assert.Throws<NotSupportedException>(() => TransformerModel.Load(path));
        Assert.Contains("tensor 'blk.0.ffn_gate.weight' has type IQ4_NL", e.Message);
    }

    [Fact]
    public void An_activation_format_is_not_a_weight_type()
    {
        string path = Model("q8k", w =>
        {
            w.RemoveTensor("output.weight");
            w.AddTensor("output.weight", GgmlType.Q8_K, [256, 300], new byte[300 * 292]);
        });
        // The shape check comes first: 256 ≠ 64 columns.
        Assert.Throws<InvalidDataException>(() => TransformerModel.Load(path));
    }

    [Fact]
    public void An_unknown_architecture_is_named()
    {
        string path = Model("arch", w => w.Set("general.architecture", "gpt2"));
        var e = Assert.Throws<NotSupportedException>(() => TransformerModel.Load(path));
        Assert.Contains("'gpt2' is not supported (supported: llama, qwen2)", e.Message);
    }

    [Theory]
    [InlineData("llama.embedding_length", "metadata key 'llama.embedding_length' is missing")]
    [InlineData("llama.attention.layer_norm_rms_epsilon", "metadata key 'llama.attention.layer_norm_rms_epsilon' is missing")]
    [InlineData("llama.block_count", "metadata key 'llama.block_count' is missing")]
    public void A_missing_hyperparameter_is_named(string key, string expected)
    {
        string path = Model("nokey-" + key, w => w.Remove(key));
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => TransformerModel.Load(path)).Message);
    }

    [Theory]
    [InlineData("llama.embedding_length", "sixty-four", "is not an integer")]
    [InlineData("llama.attention.head_count_kv", 3u, "4 attention heads cannot be shared by 3 KV heads")]
    [InlineData("llama.block_count", 4000000000u, "outside 1..")]
    [InlineData("llama.attention.layer_norm_rms_epsilon", -1f, "must be a positive number")]
    [InlineData("llama.rope.scaling.type", "yarn", "RoPE scaling 'yarn' is not supported")]
    public void Impossible_hyperparameters_are_rejected(string key, object value, string expected)
    {
        string path = Model($"bad-{key}", w => w.Set(key, value switch { string => GgufValueType.String, uint => GgufValueType.UInt32, _ => GgufValueType.Float32 }, value));
        var e = Record.Exception(() => TransformerModel.Load(path));
        Assert.True(e is InvalidDataException or NotSupportedException, e?.ToString());
        Assert.Contains(expected, e!.Message);
    }
}

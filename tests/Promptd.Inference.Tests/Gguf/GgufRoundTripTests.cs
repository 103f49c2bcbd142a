using Promptd.Inference.Gguf;
using Promptd.Inference.Tensors;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Gguf;

public class GgufRoundTripTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private GgufFile WriteAndOpen(GgufWriter writer, string name = "roundtrip.gguf")
    {
        string path = _dir.File(name);
        writer.WriteFile(path);
        return GgufFile.Open(path);
    }

    public static TheoryData<GgufValueType, object> Scalars => new()
    {
        { GgufValueType.UInt8, (byte)200 },
        { GgufValueType.Int8, (sbyte)-7 },
        { GgufValueType.UInt16, (ushort)65535 },
        { GgufValueType.Int16, (short)-300 },
        { GgufValueType.UInt32, uint.MaxValue },
        { GgufValueType.Int32, int.MinValue },
        { GgufValueType.Float32, 1.5e-7f },
        { GgufValueType.Bool, true },
        { GgufValueType.String, "héllo ✓ 日本語 \u2581piece" },
        { GgufValueType.UInt64, ulong.MaxValue },
        { GgufValueType.Int64, long.MinValue },
        { GgufValueType.Float64, Math.PI },
    };

    [Theory]
    [MemberData(nameof(Scalars))]
    public void Every_scalar_value_type_round_trips(GgufValueType type, object value)
    {
        using var file = WriteAndOpen(new GgufWriter().Set("test.value", type, value).Set("test.after", "still here"));
        Assert.Equal(value, file.Metadata.Get("test.value"));
        Assert.Equal(type, file.Metadata.TypeOf("test.value"));
        Assert.Equal("still here", file.Metadata.GetString("test.after"));
    }

    public static TheoryData<Array> Arrays => new()
    {
        new byte[] { 0, 1, 255 },
        new sbyte[] { -128, 0, 127 },
        new ushort[] { 0, 65535 },
        new short[] { -32768, 32767 },
        new uint[] { 0, uint.MaxValue },
        new[] { -1, 0, int.MaxValue },
        new[] { 0.5f, -1e30f, float.Epsilon },
        new[] { true, false, true },
        new[] { "", "a", "▁the", "<0x0A>", "日本" },
        new ulong[] { ulong.MaxValue },
        new[] { long.MinValue, 42L },
        new[] { double.MaxValue, -0.25 },
        Array.Empty<int>(),
        Array.Empty<string>(),
        new object[] { new[] { 1, 2 }, new[] { "x", "y" }, new object[] { new[] { 3.5f } } },
    };

    [Theory]
    [MemberData(nameof(Arrays))]
    public void Every_array_type_round_trips_including_strings_and_nested_arrays(Array values)
    {
        using var file = WriteAndOpen(new GgufWriter().Set("test.array", values).Set("test.after", 7u));
        Assert.Equal(GgufValueType.Array, file.Metadata.TypeOf("test.array"));
        var read = Assert.IsAssignableFrom<Array>(file.Metadata.Get("test.array"));
        Assert.Equal(values.GetType(), read.GetType());
        Assert.Equal(values, read);
        Assert.Equal(7L, file.Metadata.GetInteger("test.after"));
    }

    public static TheoryData<GgmlType> TensorTypeIds => [.. TensorTypes.All.Select(t => t.Id), GgmlType.IQ4_NL, GgmlType.IQ2_XXS, GgmlType.I32];

    [Theory]
    [MemberData(nameof(TensorTypeIds))]
    public void Tensors_of_every_type_round_trip_aligned(GgmlType type)
    {
        var (blockSize, blockBytes) = GgmlTypeInfo.Geometry(type);
        long[] dims = [blockSize * 2, 3];
        var data = new byte[2 * 3 * blockBytes];
        new Random((int)type).NextBytes(data);
        var other = new byte[4 * 5 * 4];
        new Random(1).NextBytes(other);
        var writer = new GgufWriter()
            .AddTensor("small", GgmlType.F32, [5], new byte[20])
            .AddTensor("tensor", type, dims, data)
            .AddTensor("after", GgmlType.F32, [4, 5], other);
        using var file = WriteAndOpen(writer);
        var info = file.GetTensor("tensor");
        Assert.Equal(type, info.Type);
        Assert.Equal(dims, info.Dimensions);
        Assert.Equal(data.Length, info.ByteCount);
        Assert.Equal(0, (file.DataOffset + info.Offset) % 32);
        Assert.Equal(data, file.GetTensorData(info).ToArray());
        Assert.Equal(other, file.GetTensorData(file.GetTensor("after")).ToArray());
    }

    [Fact]
    public void A_file_opened_through_a_symbolic_link_is_read_whole()
    {
        string target = _dir.File("target.gguf");
        new GgufWriter().Set("test.value", "linked").AddTensor("w", GgmlType.F32, [64, 4], new byte[64 * 4 * 4]).WriteFile(target);
        string link = _dir.File("link.gguf");
        File.CreateSymbolicLink(link, target);

        using var file = GgufFile.Open(link);
        Assert.Equal(new FileInfo(target).Length, file.FileLength);
        Assert.Equal("linked", file.Metadata.GetString("test.value"));
        Assert.Equal(new FileInfo(target).Length, GgufFile.ResolveFile(link).Length);

        File.Delete(target);
        Assert.False(GgufFile.ResolveFile(link).Exists);
        Assert.Throws<FileNotFoundException>(() => GgufFile.Open(link));
    }

    [Fact]
    public void Float_tensors_are_quantized_by_the_writer()
    {
        var values = Gaussian.Samples(2 * 64, seed: 9);
        using var file = WriteAndOpen(new GgufWriter().AddTensor("w", GgmlType.Q8_0, [64, 2], values));
        var expected = new byte[2 * 2 * 34];
        TensorTypes.Q8_0.QuantizeRow(values, expected);
        Assert.Equal(expected, file.GetTensorData(file.GetTensor("w")).ToArray());
    }

    [Theory]
    [InlineData(64, 3u)]
    [InlineData(32, 2u)]
    [InlineData(4096, 3u)]
    public void Alignment_and_version_are_honoured(int alignment, uint version)
    {
        var writer = new GgufWriter(alignment, version)
            .Set("general.architecture", "llama")
            .AddTensor("a", GgmlType.F32, [3], new byte[12])
            .AddTensor("b", GgmlType.F16, [5], new byte[10]);
        using var file = WriteAndOpen(writer);
        Assert.Equal(version, file.Version);
        Assert.Equal(alignment, file.Alignment);
        Assert.Equal(0, file.DataOffset % alignment);
        Assert.All(file.Tensors, t => Assert.Equal(0, t.Offset % alignment));
        Assert.Equal(alignment == 32 ? null : (uint?)alignment, file.Metadata.Get("general.alignment") as uint?);
    }

    [Fact]
    public void A_file_without_tensors_is_valid()
    {
        using var file = WriteAndOpen(new GgufWriter().Set("tokenizer.ggml.tokens", new[] { "a", "b" }));
        Assert.Empty(file.Tensors);
        Assert.Equal(["a", "b"], file.Metadata.GetArray<string>("tokenizer.ggml.tokens")!);
    }

    [Fact]
    public void The_writer_refuses_what_it_cannot_write()
    {
        var w = new GgufWriter().AddTensor("t", GgmlType.F32, [2], new byte[8]);
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [2], new byte[8]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("zero", GgmlType.F32, [0], new byte[0]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("five", GgmlType.F32, [1, 1, 1, 1, 1], new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("partial", GgmlType.Q4_0, [48], new byte[27]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("unknown", (GgmlType)77, [2], new byte[8]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("count", GgmlType.F32, [4], new float[3]));
        Assert.Throws<ArgumentException>(() => w.Set("k", GgufValueType.UInt32, 5)); // an int is not a UInt32
        Assert.Throws<ArgumentException>(() => w.Set("k", new List<int>().ToArray().Cast<object>().Append(1).ToArray())); // object[] of non-arrays
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter(alignment: 24));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter(version: 1));
        w.AddTensor("short", GgmlType.F32, [2], new byte[4]);
        Assert.Throws<ArgumentException>(() => w.ToArray());
    }
}

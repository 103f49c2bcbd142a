using System.Buffers.Binary;
using Promptd.Inference.Gguf;
using Promptd.Inference.Tensors;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Tensors;

/// <summary>The engine's block decoders against an element-by-element reading of ggml-common.h, on random blocks.</summary>
public class BlockLayoutTests
{
    /// <summary>Where each block format keeps its f16 scale factors (random bytes there could be NaN or infinity).</summary>
    private static readonly Dictionary<GgmlType, int[]> HalfFields = new()
    {
        [GgmlType.Q4_0] = [0], [GgmlType.Q4_1] = [0, 2], [GgmlType.Q5_0] = [0], [GgmlType.Q5_1] = [0, 2],
        [GgmlType.Q8_0] = [0], [GgmlType.Q8_1] = [0, 2], [GgmlType.Q2_K] = [80, 82], [GgmlType.Q3_K] = [108],
        [GgmlType.Q4_K] = [0, 2], [GgmlType.Q5_K] = [0, 2], [GgmlType.Q6_K] = [208], [GgmlType.Q8_K] = [],
    };

    public static TheoryData<GgmlType> BlockTypes => [.. HalfFields.Keys];

    [Theory]
    [MemberData(nameof(BlockTypes))]
    public void Dequantization_follows_the_ggml_block_layout(GgmlType id)
    {
        var type = TensorTypes.Get(id);
        const int blocks = 40;
        var random = new Random((int)id);
        var row = new byte[blocks * type.BlockBytes];
        random.NextBytes(row);
        for (int b = 0; b < blocks; b++)
        {
            var block = row.AsSpan(b * type.BlockBytes, type.BlockBytes);
            foreach (int at in HalfFields[id])
                BinaryPrimitives.WriteUInt16LittleEndian(block[at..], HalfFloat.FloatToF16((float)(random.NextDouble() * 2 - 1)));
            if (id == GgmlType.Q8_K) BinaryPrimitives.WriteSingleLittleEndian(block, (float)random.NextDouble());
        }

        var values = new float[blocks * type.BlockSize];
        type.DequantizeRow(row, values);
        for (int b = 0; b < blocks; b++)
        {
            var expected = ReferenceDequantizer.Block(id, row.AsSpan(b * type.BlockBytes, type.BlockBytes).ToArray());
            Assert.Equal(expected, values.AsSpan(b * type.BlockSize, type.BlockSize).ToArray());
        }
    }

    [Fact]
    public void Float_types_store_plain_little_endian_values()
    {
        var f32 = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(f32, 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(4), -2.25f);
        var v = new float[2];
        TensorTypes.F32.DequantizeRow(f32, v);
        Assert.Equal([1.5f, -2.25f], v);

        TensorTypes.F16.DequantizeRow([0x00, 0x3C, 0x00, 0xC0], v); // 1.0, -2.0
        Assert.Equal([1.0f, -2.0f], v);
        TensorTypes.BF16.DequantizeRow([0x80, 0x3F, 0x40, 0xC0], v); // 1.0, -3.0
        Assert.Equal([1.0f, -3.0f], v);
    }

    [Theory]
    [InlineData(GgmlType.F32, 1, 4)]
    [InlineData(GgmlType.F16, 1, 2)]
    [InlineData(GgmlType.BF16, 1, 2)]
    [InlineData(GgmlType.Q4_0, 32, 18)]
    [InlineData(GgmlType.Q4_1, 32, 20)]
    [InlineData(GgmlType.Q5_0, 32, 22)]
    [InlineData(GgmlType.Q5_1, 32, 24)]
    [InlineData(GgmlType.Q8_0, 32, 34)]
    [InlineData(GgmlType.Q8_1, 32, 36)]
    [InlineData(GgmlType.Q2_K, 256, 84)]
    [InlineData(GgmlType.Q3_K, 256, 110)]
    [InlineData(GgmlType.Q4_K, 256, 144)]
    [InlineData(GgmlType.Q5_K, 256, 176)]
    [InlineData(GgmlType.Q6_K, 256, 210)]
    [InlineData(GgmlType.Q8_K, 256, 292)]
    public void Block_geometry_is_ggmls(GgmlType id, int blockSize, int blockBytes)
    {
        var type = TensorTypes.Get(id);
        Assert.Equal((blockSize, blockBytes), (type.BlockSize, type.BlockBytes));
        Assert.Equal((blockSize, blockBytes), GgmlTypeInfo.Geometry(id));
    }

    [Fact]
    public void Weight_types_pair_with_ggmls_activation_types()
    {
        var expected = new Dictionary<GgmlType, GgmlType>
        {
            [GgmlType.F32] = GgmlType.F32, [GgmlType.F16] = GgmlType.F16, [GgmlType.BF16] = GgmlType.BF16,
            [GgmlType.Q4_0] = GgmlType.Q8_0, [GgmlType.Q5_0] = GgmlType.Q8_0, [GgmlType.Q8_0] = GgmlType.Q8_0,
            [GgmlType.Q4_1] = GgmlType.Q8_1, [GgmlType.Q5_1] = GgmlType.Q8_1,
            [GgmlType.Q2_K] = GgmlType.Q8_K, [GgmlType.Q3_K] = GgmlType.Q8_K, [GgmlType.Q4_K] = GgmlType.Q8_K,
            [GgmlType.Q5_K] = GgmlType.Q8_K, [GgmlType.Q6_K] = GgmlType.Q8_K,
        };
        Assert.Equal(expected.Keys.Order(), TensorTypes.WeightTypes.Select(t => t.Id).Order());
        foreach (var (weight, activation) in expected) Assert.Equal(activation, TensorTypes.Get(weight).ActivationType.Id);
        Assert.Throws<NotSupportedException>(() => TensorTypes.Q8_K.ActivationType);
        Assert.Throws<NotSupportedException>(() => TensorTypes.Q8_1.ActivationType);
    }

    [Theory]
    [InlineData((GgmlType)99, "type 99")]
    [InlineData(GgmlType.IQ2_XXS, "IQ2_XXS")]
    [InlineData(GgmlType.I32, "I32")]
    public void Unsupported_types_fail_with_their_name(GgmlType id, string name)
    {
        var e = Assert.Throws<NotSupportedException>(() => TensorTypes.Get(id));
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Rows_must_be_whole_blocks()
    {
        var e = Assert.Throws<ArgumentException>(() => TensorTypes.Q4_0.RowBytes(48));
        Assert.Contains("32", e.Message);
        Assert.Throws<ArgumentException>(() => TensorTypes.Q4_K.DequantizeRow(new byte[144], new float[128]));
        Assert.Throws<ArgumentException>(() => TensorTypes.Q8_0.DequantizeRow(new byte[33], new float[32]));
        Assert.Throws<ArgumentException>(() => TensorTypes.Q8_0.QuantizeRow(new float[32], new byte[33]));
    }
}

using System.Runtime.CompilerServices;
using Promptd.Inference.Gguf;
using Promptd.Inference.Tensors;

namespace Promptd.Inference.Kernels.Simd;

/// <summary>
/// The layout the SIMD kernels read quantized weights in. Sixteen rows form a group; the group keeps
/// exactly its bytes, but block column by block column, and inside a block field by field with the
/// sixteen rows' pieces of each field side by side: the f16 scales of 16 rows make one 32-byte
/// vector, and four bytes of levels from each of 16 rows make one 64-byte vector whose 32-bit lane
/// r belongs to row r. A kernel then works on 16 rows at once with one row per lane, and sums each
/// row's blocks in the same order as the scalar dot product, so its results equal the reference's
/// bit for bit. Because the size does not change, the rearrangement happens in place (in the
/// model's weight arena, or in a copy-on-write mapping of the file): no second copy of the weights.
///
/// Two things change besides the order. Q8_0 levels are stored plus 128 (XOR 0x80), the unsigned
/// form VPDPBUSD multiplies, so the kernel does not convert them at every load. And the F16 block
/// factors (the 2-byte fields: d, dmin, m) are checked to be finite, which lets the kernels convert
/// them with four instructions instead of eleven; a file with an infinite or NaN scale is corrupt
/// and is refused with an <see cref="InvalidDataException"/>.
/// </summary>
internal sealed unsafe class InterleavedRows
{
    public const int GroupRows = 16;

    /// <summary>
    /// A field of a ggml block: <paramref name="Count"/> pieces of <paramref name="Bytes"/> bytes from
    /// <paramref name="Offset"/>; 2-byte fields are F16 factors. <paramref name="Bias"/> is XORed into
    /// every byte of the field while it is interleaved (and again when a row is read back).
    /// </summary>
    private readonly record struct Field(int Offset, int Bytes, int Count, byte Bias = 0);

    private readonly Field[] _fields;
    private readonly int[] _packedOffsets; // where each field's 16-row pieces start inside a group block

    private InterleavedRows(TensorType type, Field[] fields)
    {
        Type = type;
        _fields = fields;
        _packedOffsets = new int[fields.Length];
        int at = 0, covered = 0;
        for (int i = 0; i < fields.Length; i++)
        {
            _packedOffsets[i] = at;
            at += GroupRows * fields[i].Bytes * fields[i].Count;
            covered += fields[i].Bytes * fields[i].Count;
        }
        if (covered != type.BlockBytes) throw new InvalidOperationException($"{type.Name}: interleaved fields cover {covered} of {type.BlockBytes} block bytes");
    }

    public TensorType Type { get; }

    /// <summary>Bytes of one block column of a group (16 rows × one block).</summary>
    public int GroupBlockBytes => GroupRows * Type.BlockBytes;

    // Field tables: offsets in the ggml block (ggml-common.h), split into 2- or 4-byte pieces. The
    // kernels' formats (QuantFormats.cs) read the packed offsets that follow from them.
    private static readonly Dictionary<GgmlType, InterleavedRows> Formats = new()
    {
        [GgmlType.Q8_0] = new(TensorTypes.Q8_0, [new(0, 2, 1), new(2, 4, 8, Bias: 0x80)]),
        [GgmlType.Q4_0] = new(TensorTypes.Q4_0, [new(0, 2, 1), new(2, 4, 4)]),
        [GgmlType.Q4_1] = new(TensorTypes.Q4_1, [new(0, 2, 1), new(2, 2, 1), new(4, 4, 4)]),
        [GgmlType.Q5_0] = new(TensorTypes.Q5_0, [new(0, 2, 1), new(2, 4, 1), new(6, 4, 4)]),
        [GgmlType.Q5_1] = new(TensorTypes.Q5_1, [new(0, 2, 1), new(2, 2, 1), new(4, 4, 1), new(8, 4, 4)]),
        [GgmlType.Q2_K] = new(TensorTypes.Q2_K, [new(0, 4, 4), new(16, 4, 16), new(80, 2, 1), new(82, 2, 1)]),
        [GgmlType.Q3_K] = new(TensorTypes.Q3_K, [new(0, 4, 8), new(32, 4, 16), new(96, 4, 3), new(108, 2, 1)]),
        [GgmlType.Q4_K] = new(TensorTypes.Q4_K, [new(0, 2, 1), new(2, 2, 1), new(4, 4, 3), new(16, 4, 32)]),
        [GgmlType.Q5_K] = new(TensorTypes.Q5_K, [new(0, 2, 1), new(2, 2, 1), new(4, 4, 3), new(16, 4, 8), new(48, 4, 32)]),
        [GgmlType.Q6_K] = new(TensorTypes.Q6_K, [new(0, 4, 32), new(128, 4, 16), new(192, 4, 4), new(208, 2, 1)]),
    };

    /// <summary>The interleaved layout of a quantized type, or null for the float types (read as they are).</summary>
    public static InterleavedRows? For(TensorType type) => Formats.GetValueOrDefault(type.Id);

    /// <summary>Where field <paramref name="field"/> starts in a group block (for tests of the kernels' constants).</summary>
    public int PackedOffset(int field) => _packedOffsets[field];

    /// <summary>
    /// Rearranges the whole groups of a matrix in place; <paramref name="rows"/> rows of
    /// <paramref name="blocks"/> blocks each start at <paramref name="data"/>. Groups are independent,
    /// so they are done in parallel. Throws InvalidDataException if a block factor is infinite or
    /// NaN (before anything is rearranged).
    /// </summary>
    public void Interleave(byte* data, int rows, int blocks)
    {
        CheckFactors(data, rows, blocks);
        int groups = rows / GroupRows;
        long groupBytes = (long)GroupRows * blocks * Type.BlockBytes;
        nint basePointer = (nint)data;
        Parallel.For(0, groups, () => new byte[groupBytes], (g, _, plain) =>
        {
            byte* group = (byte*)basePointer + g * groupBytes;
            new ReadOnlySpan<byte>(group, (int)groupBytes).CopyTo(plain);
            fixed (byte* source = plain) Scatter(source, group, blocks);
            return plain;
        }, _ => { });
    }

    private void CheckFactors(byte* data, int rows, int blocks)
    {
        long count = (long)rows / GroupRows * GroupRows * blocks;
        foreach (var field in _fields)
        {
            if (field.Bytes != 2) continue;
            for (long b = 0; b < count; b++)
            {
                ushort half = Unsafe.ReadUnaligned<ushort>(data + b * Type.BlockBytes + field.Offset);
                if ((half & 0x7C00) == 0x7C00)
                    throw new InvalidDataException($"row {b / blocks} has an infinite or NaN {Type.Name} scale (F16 0x{half:X4}) in block {b % blocks}");
            }
        }
    }

    /// <summary>Row <paramref name="row"/> (0–15) of an interleaved group, back in the ggml layout.</summary>
    public void CopyRow(byte* group, int blocks, int row, Span<byte> destination)
    {
        int rowBytes = blocks * Type.BlockBytes;
        if (destination.Length < rowBytes) throw new ArgumentException($"a row takes {rowBytes} bytes", nameof(destination));
        fixed (byte* d = destination)
        {
            for (int b = 0; b < blocks; b++)
            {
                byte* packed = group + (long)b * GroupBlockBytes;
                byte* plain = d + b * Type.BlockBytes;
                for (int f = 0; f < _fields.Length; f++)
                {
                    var field = _fields[f];
                    for (int c = 0; c < field.Count; c++)
                        Copy(packed + PieceOffset(f, c, row), plain + field.Offset + c * field.Bytes, field.Bytes, field.Bias);
                }
            }
        }
    }

    private void Scatter(byte* plainGroup, byte* group, int blocks)
    {
        int rowBytes = blocks * Type.BlockBytes;
        for (int r = 0; r < GroupRows; r++)
        {
            for (int b = 0; b < blocks; b++)
            {
                byte* plain = plainGroup + r * rowBytes + b * Type.BlockBytes;
                byte* packed = group + (long)b * GroupBlockBytes;
                for (int f = 0; f < _fields.Length; f++)
                {
                    var field = _fields[f];
                    for (int c = 0; c < field.Count; c++)
                        Copy(plain + field.Offset + c * field.Bytes, packed + PieceOffset(f, c, r), field.Bytes, field.Bias);
                }
            }
        }
    }

    private int PieceOffset(int field, int piece, int row) =>
        _packedOffsets[field] + (piece * GroupRows + row) * _fields[field].Bytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(byte* from, byte* to, int bytes, byte bias)
    {
        if (bytes == 4) Unsafe.WriteUnaligned(to, Unsafe.ReadUnaligned<uint>(from) ^ (bias * 0x01010101u));
        else Unsafe.WriteUnaligned(to, Unsafe.ReadUnaligned<ushort>(from));
    }
}

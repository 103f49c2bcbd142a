using Promptd.Inference.Kernels.Simd;
using Promptd.Inference.Tensors;

namespace Promptd.Inference.Kernels;

/// <summary>
/// A read-only row-major matrix of <see cref="Rows"/> × <see cref="Columns"/> elements stored in a
/// tensor type, held by pointer: a weight tensor inside the mapped model file (never copied), or a
/// slice of a session's KV cache. Rows are <see cref="RowStride"/> bytes apart, so a view can pick
/// one head out of a wider row. A value type, so making a view allocates nothing.
///
/// An <see cref="Interleaved"/> view holds a quantized matrix rearranged in place by the SIMD
/// kernels: each run of <see cref="InterleavedRows.GroupRows"/> rows keeps its bytes, but block by
/// block with the rows' fields side by side (see <see cref="InterleavedRows"/>); the rows after the
/// last whole group stay as they were.
/// </summary>
public readonly unsafe struct MatrixView
{
    private readonly byte* _data;

    public MatrixView(byte* data, TensorType type, int rows, int columns, long rowStride)
        : this(data, type, rows, columns, rowStride, interleaved: false, finite: false)
    {
    }

    private MatrixView(byte* data, TensorType type, int rows, int columns, long rowStride, bool interleaved, bool finite)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (rows < 0 || columns < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"a matrix cannot have {rows} rows or {columns} columns");
        int rowBytes = type.RowBytes(columns);
        if (rowStride < rowBytes) throw new ArgumentOutOfRangeException(nameof(rowStride), $"row stride {rowStride} is shorter than a {rowBytes}-byte row");
        _data = data;
        Type = type;
        Rows = rows;
        Columns = columns;
        RowBytes = rowBytes;
        RowStride = rowStride;
        Interleaved = interleaved;
        Finite = finite;
    }

    public TensorType Type { get; }
    public int Rows { get; }
    public int Columns { get; }

    /// <summary>Bytes of one row's data.</summary>
    public int RowBytes { get; }

    /// <summary>Bytes from the start of one row to the start of the next.</summary>
    public long RowStride { get; }

    /// <summary>Whether whole groups of rows are in the SIMD kernels' interleaved layout.</summary>
    public bool Interleaved { get; }

    /// <summary>Whether every element (or block factor) was checked to be finite, so kernels may convert F16 the short way.</summary>
    public bool Finite { get; }

    /// <summary>Rows in interleaved groups (0 unless <see cref="Interleaved"/>); the rest are plain.</summary>
    public int InterleavedRowCount => Interleaved ? Rows / InterleavedRows.GroupRows * InterleavedRows.GroupRows : 0;

    /// <summary>The same bytes, read as interleaved (after <see cref="InterleavedRows.Interleave"/> rearranged them; factors checked finite).</summary>
    internal MatrixView AsInterleaved() => new(_data, Type, Rows, Columns, RowStride, interleaved: true, finite: true);

    /// <summary>The same matrix, known to hold only finite values.</summary>
    internal MatrixView AsFinite() => new(_data, Type, Rows, Columns, RowStride, Interleaved, finite: true);

    /// <summary>Pointer to row <paramref name="row"/>'s first byte, or an interleaved group's (no bounds check; for SIMD kernels).</summary>
    public byte* RowPointer(int row) => _data + row * RowStride;

    /// <summary>Row <paramref name="row"/>'s bytes (a plain row: not one inside an interleaved group).</summary>
    public ReadOnlySpan<byte> Row(int row)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} of a {Rows}-row matrix");
        if (row < InterleavedRowCount) throw new InvalidOperationException($"row {row} is interleaved with its neighbours; use CopyRow");
        return new ReadOnlySpan<byte>(RowPointer(row), RowBytes);
    }

    /// <summary>Row <paramref name="row"/>'s bytes in the tensor type's own layout, wherever they are.</summary>
    public void CopyRow(int row, Span<byte> destination)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} of a {Rows}-row matrix");
        if (row < InterleavedRowCount)
        {
            int group = row / InterleavedRows.GroupRows;
            InterleavedRows.For(Type)!.CopyRow(RowPointer(group * InterleavedRows.GroupRows), Columns / Type.BlockSize, row % InterleavedRows.GroupRows, destination[..RowBytes]);
        }
        else
        {
            Row(row).CopyTo(destination);
        }
    }

    /// <summary>The first <paramref name="rows"/> rows of this view (of a plain view).</summary>
    public MatrixView TopRows(int rows)
    {
        if ((uint)rows > (uint)Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows of a {Rows}-row matrix");
        if (Interleaved) throw new InvalidOperationException("an interleaved matrix cannot be cut: its groups would change");
        return new MatrixView(_data, Type, rows, Columns, RowStride);
    }

    /// <summary>Row <paramref name="row"/> as floats.</summary>
    public void DequantizeRow(int row, Span<float> destination)
    {
        if (row >= InterleavedRowCount)
        {
            Type.DequantizeRow(Row(row), destination[..Columns]);
            return;
        }
        // Interleaved rows are copied back to their own layout first; rows this large are embeddings of big models.
        byte[]? rented = RowBytes > 16384 ? System.Buffers.ArrayPool<byte>.Shared.Rent(RowBytes) : null;
        Span<byte> plain = rented is null ? stackalloc byte[RowBytes] : rented.AsSpan(0, RowBytes);
        CopyRow(row, plain);
        Type.DequantizeRow(plain, destination[..Columns]);
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
    }
}

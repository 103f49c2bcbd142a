using Promptd.Inference.Tensors;

namespace Promptd.Inference.Kernels;

/// <summary>
/// A read-only row-major matrix of <see cref="Rows"/> × <see cref="Columns"/> elements stored in a
/// tensor type, held by pointer: a weight tensor inside the mapped model file (never copied), or a
/// slice of a session's KV cache. Rows are <see cref="RowStride"/> bytes apart, so a view can pick
/// one head out of a wider row. A value type, so making a view allocates nothing.
/// </summary>
public readonly unsafe struct MatrixView
{
    private readonly byte* _data;

    public MatrixView(byte* data, TensorType type, int rows, int columns, long rowStride)
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
    }

    public TensorType Type { get; }
    public int Rows { get; }
    public int Columns { get; }

    /// <summary>Bytes of one row's data.</summary>
    public int RowBytes { get; }

    /// <summary>Bytes from the start of one row to the start of the next.</summary>
    public long RowStride { get; }

    /// <summary>Pointer to row <paramref name="row"/>'s first byte (no bounds check; for SIMD kernels).</summary>
    public byte* RowPointer(int row) => _data + row * RowStride;

    /// <summary>Row <paramref name="row"/>'s bytes.</summary>
    public ReadOnlySpan<byte> Row(int row)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} of a {Rows}-row matrix");
        return new ReadOnlySpan<byte>(RowPointer(row), RowBytes);
    }

    /// <summary>The first <paramref name="rows"/> rows of this view.</summary>
    public MatrixView TopRows(int rows)
    {
        if ((uint)rows > (uint)Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows of a {Rows}-row matrix");
        return new MatrixView(_data, Type, rows, Columns, RowStride);
    }

    /// <summary>Row <paramref name="row"/> as floats.</summary>
    public void DequantizeRow(int row, Span<float> destination) => Type.DequantizeRow(Row(row), destination[..Columns]);
}

namespace Promptd.Inference.Gguf;

/// <summary>
/// One tensor's entry in the file. <see cref="Dimensions"/> is in ggml order: [0] is the row
/// length (contiguous), [1] the number of rows, and so on.
/// </summary>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgmlType Type, long Offset, long ByteCount)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Dimensions) n *= d;
            return n;
        }
    }

    /// <summary>Row length (ne[0]).</summary>
    public long Columns => Dimensions.Length > 0 ? Dimensions[0] : 1;

    /// <summary>Number of rows: the product of every dimension after the first.</summary>
    public long Rows => Columns == 0 ? 0 : ElementCount / Columns;
}

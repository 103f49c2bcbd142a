using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Promptd.Inference.Kernels;
using Promptd.Inference.Tensors;

namespace Promptd.Inference.Models;

/// <summary>
/// Keys and values of every layer for up to <see cref="Capacity"/> positions, in F16 or F32. Keys are
/// stored a position per row; values transposed, a dimension per row, as llama.cpp stores them
/// without flash attention. Both attention products are then matrix-vector products with the cache
/// as the matrix, and a cache in F16 gets ggml's F16 conversions of the query and of the attention
/// weights for free (they are the F16 type's activation format).
/// </summary>
internal sealed unsafe class KvCache
{
    private readonly byte[][] _keys;   // per layer: [position][kvHead·headDim]
    private readonly byte[][] _values; // per layer: [kvHead·headDim][position]
    private readonly int _headDim;
    private readonly int _width;       // kvHeads·headDim
    private readonly int _elementBytes;

    public KvCache(KvCacheType type, int layers, int capacity, int kvHeads, int headDim)
    {
        Type = ElementType(type);
        Capacity = capacity;
        _headDim = headDim;
        _width = kvHeads * headDim;
        _elementBytes = Type.RowBytes(1);
        long bytes = (long)capacity * _width * _elementBytes;
        if (bytes > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"a KV cache of {capacity} positions needs {bytes} bytes per layer; too large");
        _keys = new byte[layers][];
        _values = new byte[layers][];
        for (int l = 0; l < layers; l++)
        {
            // Pinned: matrix views hold raw pointers into these arrays.
            _keys[l] = GC.AllocateArray<byte>((int)bytes, pinned: true);
            _values[l] = GC.AllocateArray<byte>((int)bytes, pinned: true);
        }
    }

    public TensorType Type { get; }
    public int Capacity { get; }

    public static TensorType ElementType(KvCacheType type) => type == KvCacheType.F16 ? TensorTypes.F16 : TensorTypes.F32;

    /// <summary>Stores the keys and values (count × kvHeads·headDim each) of positions start … start+count−1.</summary>
    public void Store(int layer, int start, int count, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        int rowBytes = _width * _elementBytes;
        for (int t = 0; t < count; t++)
            Type.QuantizeRow(keys.Slice(t * _width, _width), _keys[layer].AsSpan((start + t) * rowBytes, rowBytes));

        var v = _values[layer];
        for (int t = 0; t < count; t++)
        {
            int position = start + t;
            var row = values.Slice(t * _width, _width);
            if (Type.Id == Gguf.GgmlType.F16)
            {
                var cache = MemoryMarshal.Cast<byte, ushort>(v.AsSpan());
                for (int j = 0; j < _width; j++) cache[j * Capacity + position] = HalfFloat.FloatToF16(row[j]);
            }
            else
            {
                var cache = MemoryMarshal.Cast<byte, float>(v.AsSpan());
                for (int j = 0; j < _width; j++) cache[j * Capacity + position] = row[j];
            }
        }
    }

    /// <summary>Keys of one KV head for positions 0 … positions−1: a positions × headDim matrix.</summary>
    public MatrixView Keys(int layer, int kvHead, int positions) =>
        new(Base(_keys[layer]) + (long)kvHead * _headDim * _elementBytes, Type, positions, _headDim, (long)_width * _elementBytes);

    /// <summary>Values of one KV head for positions 0 … positions−1, transposed: a headDim × positions matrix.</summary>
    public MatrixView ValuesTransposed(int layer, int kvHead, int positions) =>
        new(Base(_values[layer]) + (long)kvHead * _headDim * Capacity * _elementBytes, Type, _headDim, positions, (long)Capacity * _elementBytes);

    private static byte* Base(byte[] pinned) => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
}

using System.Text;

namespace Promptd.Inference.Gguf;

/// <summary>
/// Writes GGUF files (version 3 by default, 2 on request): metadata of every value type, including
/// arrays of strings and nested arrays, and tensors of any ggml type, each aligned to
/// <see cref="Alignment"/>. Tensor data is produced one tensor at a time when the file is written,
/// so a multi-gigabyte model never needs to be held in memory whole.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValueType Type, object Value)> _metadata = [];
    private readonly List<PendingTensor> _tensors = [];

    /// <summary>Produces a tensor's bytes into a zeroed buffer of exactly its size.</summary>
    public delegate void TensorFill(Memory<byte> destination);

    private sealed record PendingTensor(string Name, GgmlType Type, long[] Dimensions, long ByteCount, TensorFill Fill);

    public GgufWriter(int alignment = GgufFile.DefaultAlignment, uint version = 3)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), $"alignment {alignment} is not a power of two");
        if (version is not (2 or 3)) throw new ArgumentOutOfRangeException(nameof(version), $"GGUF version {version} cannot be written (2 or 3)");
        Alignment = alignment;
        Version = version;
        if (alignment != GgufFile.DefaultAlignment) Set("general.alignment", GgufValueType.UInt32, (uint)alignment);
    }

    public int Alignment { get; }
    public uint Version { get; }

    public IEnumerable<string> TensorNames => _tensors.Select(t => t.Name);

    /// <summary>Sets a metadata value; <paramref name="value"/> must have the CLR type of <paramref name="type"/> (uint for UInt32, string[] or nested arrays for Array…).</summary>
    public GgufWriter Set(string key, GgufValueType type, object value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (type == GgufValueType.Array) ArrayElementType(value, key);
        else if (value.GetType() != ClrType(type, key))
            throw new ArgumentException($"metadata '{key}': a {type} value must be a {ClrType(type, key).Name}, not a {value.GetType().Name}", nameof(value));
        int existing = _metadata.FindIndex(m => m.Key == key);
        if (existing >= 0) _metadata[existing] = (key, type, value);
        else _metadata.Add((key, type, value));
        return this;
    }

    public GgufWriter Set(string key, string value) => Set(key, GgufValueType.String, value);
    public GgufWriter Set(string key, uint value) => Set(key, GgufValueType.UInt32, value);
    public GgufWriter Set(string key, int value) => Set(key, GgufValueType.Int32, value);
    public GgufWriter Set(string key, float value) => Set(key, GgufValueType.Float32, value);
    public GgufWriter Set(string key, bool value) => Set(key, GgufValueType.Bool, value);

    /// <summary>An array; the element type follows from the CLR array type (string[], float[], int[], object[] of arrays…).</summary>
    public GgufWriter Set(string key, Array values) => Set(key, GgufValueType.Array, values);

    /// <summary>Copies every key of <paramref name="metadata"/> (for rewriting a file).</summary>
    public GgufWriter SetAll(GgufMetadata metadata)
    {
        foreach (var (key, value) in metadata.Values) Set(key, metadata.TypeOf(key), value);
        return this;
    }

    public bool Remove(string key) => _metadata.RemoveAll(m => m.Key == key) > 0;

    /// <summary>Adds a tensor whose bytes are already in the layout of <paramref name="type"/>.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] dimensions, ReadOnlyMemory<byte> data) =>
        AddTensor(name, type, dimensions, destination =>
        {
            if (data.Length != destination.Length)
                throw new ArgumentException($"tensor '{name}' needs {destination.Length} bytes, got {data.Length}");
            data.CopyTo(destination);
        });

    /// <summary>Adds a tensor whose bytes <paramref name="fill"/> writes when the file is written.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] dimensions, TensorFill fill)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(fill);
        if (_tensors.Exists(t => t.Name == name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        if (dimensions.Length is < 1 or > GgufFile.MaxDimensions || Array.Exists(dimensions, d => d <= 0))
            throw new ArgumentException($"tensor '{name}' has dimensions [{string.Join(", ", dimensions)}]", nameof(dimensions));
        var (blockSize, _) = GgmlTypeInfo.Geometry(type);
        if (blockSize == 0) throw new ArgumentException($"tensor '{name}' has unknown type {GgmlTypeInfo.Name(type)}", nameof(type));
        if (dimensions[0] % blockSize != 0)
            throw new ArgumentException($"tensor '{name}' row of {dimensions[0]} is not a whole number of {GgmlTypeInfo.Name(type)} blocks of {blockSize}", nameof(dimensions));
        long elements = 1;
        foreach (long d in dimensions) elements = checked(elements * d);
        _tensors.Add(new PendingTensor(name, type, [.. dimensions], GgmlTypeInfo.RowBytes(type, elements), fill));
        return this;
    }

    /// <summary>Adds a tensor given as floats, converted to <paramref name="type"/> row by row with the reference quantizer.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] dimensions, float[] values)
    {
        var tensorType = Tensors.TensorTypes.Get(type);
        long elements = 1;
        foreach (long d in dimensions) elements = checked(elements * d);
        if (values.Length != elements)
            throw new ArgumentException($"tensor '{name}' of shape [{string.Join(", ", dimensions)}] needs {elements} values, got {values.Length}", nameof(values));
        int columns = (int)dimensions[0];
        int rowBytes = tensorType.RowBytes(columns);
        return AddTensor(name, type, dimensions, destination =>
        {
            for (int r = 0; r < values.Length / columns; r++)
                tensorType.QuantizeRow(values.AsSpan(r * columns, columns), destination.Span.Slice(r * rowBytes, rowBytes));
        });
    }

    public bool RemoveTensor(string name) => _tensors.RemoveAll(t => t.Name == name) > 0;

    public void WriteFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        WriteTo(stream);
    }

    public byte[] ToArray()
    {
        using var stream = new MemoryStream();
        WriteTo(stream);
        return stream.ToArray();
    }

    public void WriteTo(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, type, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)type);
            WriteValue(w, type, value, key);
        }

        long offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Dimensions.Length);
            foreach (long d in t.Dimensions) w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset = AlignUp(offset + t.ByteCount);
        }
        w.Flush();

        long header = HeaderLength();
        Pad(w, AlignUp(header) - header);
        byte[] buffer = [];
        foreach (var t in _tensors)
        {
            if (t.ByteCount > Array.MaxLength) throw new NotSupportedException($"tensor '{t.Name}' is {t.ByteCount} bytes; the writer handles tensors up to 2 GiB");
            if (buffer.Length < t.ByteCount) buffer = new byte[t.ByteCount];
            var data = buffer.AsMemory(0, (int)t.ByteCount);
            data.Span.Clear();
            t.Fill(data);
            w.Write(data.Span);
            Pad(w, AlignUp(t.ByteCount) - t.ByteCount);
        }
        w.Flush();
    }

    private long AlignUp(long x) => (x + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w, long count)
    {
        for (long i = 0; i < count; i++) w.Write((byte)0);
    }

    /// <summary>Bytes of everything before the tensor data (computed, since the stream may not be seekable).</summary>
    private long HeaderLength()
    {
        long n = 4 + 4 + 8 + 8;
        foreach (var (key, type, value) in _metadata) n += StringLength(key) + 4 + ValueLength(type, value);
        foreach (var t in _tensors) n += StringLength(t.Name) + 4 + 8L * t.Dimensions.Length + 4 + 8;
        return n;
    }

    private static long StringLength(string s) => 8 + Encoding.UTF8.GetByteCount(s);

    private static long ValueLength(GgufValueType type, object value) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        GgufValueType.String => StringLength((string)value),
        _ => ArrayLength((Array)value),
    };

    private static long ArrayLength(Array values)
    {
        var elementType = ArrayElementType(values, "");
        long n = 4 + 8;
        foreach (var v in values) n += ValueLength(elementType, v!);
        return n;
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value, string key)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)value); break;
            case GgufValueType.Int8: w.Write((sbyte)value); break;
            case GgufValueType.UInt16: w.Write((ushort)value); break;
            case GgufValueType.Int16: w.Write((short)value); break;
            case GgufValueType.UInt32: w.Write((uint)value); break;
            case GgufValueType.Int32: w.Write((int)value); break;
            case GgufValueType.Float32: w.Write((float)value); break;
            case GgufValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write((ulong)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            case GgufValueType.Array:
            {
                var values = (Array)value;
                var elementType = ArrayElementType(values, key);
                w.Write((uint)elementType);
                w.Write((ulong)values.Length);
                foreach (var v in values) WriteValue(w, elementType, v!, key);
                break;
            }
            default: throw new ArgumentException($"metadata '{key}': unknown value type {type}");
        }
    }

    /// <summary>The GGUF element type of a CLR array; an object[] must hold arrays (GGUF nested arrays).</summary>
    private static GgufValueType ArrayElementType(object value, string key)
    {
        // Compare exact types: the CLR lets an int[] pass for a uint[] (and sbyte[] for byte[]…).
        var type = value.GetType();
        if (type == typeof(object[])) return CheckNested((object[])value, key);
        for (var t = GgufValueType.UInt8; t <= GgufValueType.Float64; t++)
        {
            if (t is not (GgufValueType.Array) && type == ClrType(t, key).MakeArrayType()) return t;
        }
        throw new ArgumentException($"metadata '{key}': {type.Name} is not a GGUF array (use a typed array, or object[] of arrays)");
    }

    private static GgufValueType CheckNested(object[] nested, string key)
    {
        foreach (var inner in nested)
        {
            if (inner is null) throw new ArgumentException($"metadata '{key}': a nested array holds null");
            ArrayElementType(inner, key);
        }
        return GgufValueType.Array;
    }

    private static Type ClrType(GgufValueType type, string key) => type switch
    {
        GgufValueType.UInt8 => typeof(byte),
        GgufValueType.Int8 => typeof(sbyte),
        GgufValueType.UInt16 => typeof(ushort),
        GgufValueType.Int16 => typeof(short),
        GgufValueType.UInt32 => typeof(uint),
        GgufValueType.Int32 => typeof(int),
        GgufValueType.Float32 => typeof(float),
        GgufValueType.Bool => typeof(bool),
        GgufValueType.String => typeof(string),
        GgufValueType.UInt64 => typeof(ulong),
        GgufValueType.Int64 => typeof(long),
        GgufValueType.Float64 => typeof(double),
        _ => throw new ArgumentException($"metadata '{key}': unknown value type {(uint)type}"),
    };
}

using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;

namespace Promptd.Inference.Gguf;

/// <summary>
/// A GGUF v2/v3 file, memory-mapped read-only (or copy-on-write). Metadata and tensor infos are parsed eagerly with
/// every count, length and offset checked against the file size, so a corrupt or hostile file
/// fails with a <see cref="InvalidDataException"/> before anything large is allocated. Tensor data
/// stays in the mapping: <see cref="GetTensorData"/> hands out pointers into it.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF" little-endian
    public const int DefaultAlignment = 32;
    public const int MaxDimensions = 4;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;

    public string Path { get; }
    public long FileLength { get; }
    public uint Version { get; }
    public GgufMetadata Metadata { get; }
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    public int Alignment { get; }
    /// <summary>Absolute file offset of the tensor data section.</summary>
    public long DataOffset { get; }

    private readonly Dictionary<string, GgufTensorInfo> _byName;

    private GgufFile(string path, long length, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr)
    {
        Path = path;
        FileLength = length;
        _map = map;
        _view = view;
        _base = basePtr;
        var reader = new Reader(basePtr, length);
        (Version, Metadata, Tensors, Alignment, DataOffset) = Parse(ref reader);
        _byName = new Dictionary<string, GgufTensorInfo>(Tensors.Count, StringComparer.Ordinal);
        foreach (var t in Tensors)
        {
            if (!_byName.TryAdd(t.Name, t)) throw new InvalidDataException($"duplicate tensor name '{t.Name}'");
        }
    }

    /// <summary>
    /// Opens and validates a GGUF file. Throws <see cref="InvalidDataException"/> for a bad file,
    /// <see cref="FileNotFoundException"/> for a missing one. With <paramref name="copyOnWrite"/>
    /// the mapping is private and writable: a page written to becomes the process's own copy and the
    /// file never changes (kernels rearrange weights in place this way).
    /// </summary>
    public static GgufFile Open(string path, bool copyOnWrite = false)
    {
        var info = ResolveFile(path);
        if (!info.Exists) throw new FileNotFoundException($"model file not found: {path}", path);
        long length = info.Length;
        if (length < 24) throw new InvalidDataException($"{path}: file is {length} bytes, too short for a GGUF header");

        var access = copyOnWrite ? MemoryMappedFileAccess.CopyOnWrite : MemoryMappedFileAccess.Read;
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, access);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, access);
            byte* ptr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            ptr += view.PointerOffset;
            try
            {
                return new GgufFile(path, length, map, view, ptr);
            }
            catch
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                throw;
            }
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            view?.Dispose();
            map.Dispose();
            throw new InvalidDataException($"{path}: {e.Message}");
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The file <paramref name="path"/> names, through any symbolic links (a model linked into the models
    /// folder is common): its length is the model's, not the link's. A broken link is a file that does not exist.
    /// </summary>
    public static FileInfo ResolveFile(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is null) return info;
        try
        {
            return info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
        }
        catch (IOException)
        {
            return info; // a link cycle: reading it fails with the OS's own error
        }
    }

    public GgufTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    public GgufTensorInfo GetTensor(string name) =>
        FindTensor(name) ?? throw new InvalidDataException($"{Path}: tensor '{name}' is missing");

    /// <summary>Pointer to the first byte of a tensor's data inside the mapping; valid until Dispose.</summary>
    public byte* GetTensorPointer(GgufTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return _base + DataOffset + tensor.Offset;
    }

    /// <summary>A tensor's bytes as a span (tensors over 2 GiB must use <see cref="GetTensorPointer"/>).</summary>
    public ReadOnlySpan<byte> GetTensorData(GgufTensorInfo tensor)
    {
        if (tensor.ByteCount > int.MaxValue)
            throw new NotSupportedException($"tensor '{tensor.Name}' is {tensor.ByteCount} bytes; use GetTensorPointer");
        return new ReadOnlySpan<byte>(GetTensorPointer(tensor), (int)tensor.ByteCount);
    }

    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }

    private static (uint, GgufMetadata, IReadOnlyList<GgufTensorInfo>, int, long) Parse(ref Reader r)
    {
        uint magic = r.U32();
        if (magic != Magic)
            throw new InvalidDataException($"bad magic 0x{magic:X8}: not a GGUF file");
        uint version = r.U32();
        if (version == 1) throw new InvalidDataException("GGUF version 1 is not supported (only 2 and 3)");
        if (version is not (2 or 3))
        {
            if (BitConverter.IsLittleEndian && (version & 0xFFFF) == 0 && version != 0)
                throw new InvalidDataException("big-endian GGUF files are not supported");
            throw new InvalidDataException($"unsupported GGUF version {version}");
        }

        ulong tensorCount = r.U64();
        ulong kvCount = r.U64();
        // Each metadata entry takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at
        // least 8 + 4 + 8 + 4 + 8. Counts that cannot fit in the file are rejected before allocating.
        if (kvCount > (ulong)(r.Remaining / 13))
            throw new InvalidDataException($"metadata count {kvCount} cannot fit in a {r.Length}-byte file");
        if (tensorCount > (ulong)(r.Remaining / 32))
            throw new InvalidDataException($"tensor count {tensorCount} cannot fit in a {r.Length}-byte file");

        var values = new Dictionary<string, object>((int)kvCount, StringComparer.Ordinal);
        var types = new Dictionary<string, GgufValueType>((int)kvCount, StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            string key = r.String("metadata key");
            var type = (GgufValueType)r.U32();
            object value = ReadValue(ref r, type, key, depth: 0);
            if (!values.TryAdd(key, value)) throw new InvalidDataException($"duplicate metadata key '{key}'");
            types[key] = type;
        }
        var metadata = new GgufMetadata(values, types);

        int alignment = DefaultAlignment;
        if (metadata.Contains("general.alignment"))
        {
            long a = metadata.GetInteger("general.alignment") ?? -1;
            if (a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0)
                throw new InvalidDataException($"general.alignment {metadata.Get("general.alignment")} is not a power of two");
            alignment = (int)a;
        }

        var tensors = new GgufTensorInfo[(int)tensorCount];
        for (int i = 0; i < tensors.Length; i++)
        {
            string name = r.String("tensor name");
            uint nDims = r.U32();
            if (nDims == 0 || nDims > MaxDimensions)
                throw new InvalidDataException($"tensor '{name}' has {nDims} dimensions (1 to {MaxDimensions} allowed)");
            var dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++)
            {
                ulong dim = r.U64();
                if (dim == 0 || dim > int.MaxValue)
                    throw new InvalidDataException($"tensor '{name}' has dimension {d} of size {dim}");
                dims[d] = (long)dim;
                if (elements > long.MaxValue / (long)dim)
                    throw new InvalidDataException($"tensor '{name}' element count overflows");
                elements *= (long)dim;
            }
            var type = (GgmlType)r.U32();
            ulong offset = r.U64();
            var (blockSize, blockBytes) = GgmlTypeInfo.Geometry(type);
            if (blockSize == 0)
                throw new InvalidDataException($"tensor '{name}' has unknown type number {(uint)type}");
            if (dims[0] % blockSize != 0)
                throw new InvalidDataException($"tensor '{name}' row length {dims[0]} is not a multiple of the {GgmlTypeInfo.Name(type)} block size {blockSize}");
            if (offset % (ulong)alignment != 0)
                throw new InvalidDataException($"tensor '{name}' data offset {offset} is not aligned to {alignment}");
            if (elements / blockSize > long.MaxValue / blockBytes)
                throw new InvalidDataException($"tensor '{name}' byte size overflows");
            long bytes = elements / blockSize * blockBytes;
            tensors[i] = new GgufTensorInfo(name, dims, type, (long)Math.Min(offset, long.MaxValue), bytes);
        }

        long dataOffset = AlignUp(r.Position, alignment);
        if (tensorCount > 0 && dataOffset > r.Length)
            throw new InvalidDataException($"tensor data section starts at {dataOffset}, past the end of the {r.Length}-byte file");
        long dataLength = r.Length - Math.Min(dataOffset, r.Length);
        foreach (var t in tensors)
        {
            if (t.Offset > dataLength || t.ByteCount > dataLength - t.Offset)
                throw new InvalidDataException(
                    $"tensor '{t.Name}' data ({t.ByteCount} bytes at offset {t.Offset}) runs past the end of the file (data section is {dataLength} bytes; truncated file?)");
        }
        return (version, metadata, tensors, alignment, dataOffset);
    }

    private static long AlignUp(long x, int alignment) => (x + alignment - 1) / alignment * alignment;

    private static object ReadValue(ref Reader r, GgufValueType type, string key, int depth) => type switch
    {
        GgufValueType.UInt8 => r.U8(),
        GgufValueType.Int8 => (sbyte)r.U8(),
        GgufValueType.UInt16 => r.Scalar<ushort>(),
        GgufValueType.Int16 => r.Scalar<short>(),
        GgufValueType.UInt32 => r.U32(),
        GgufValueType.Int32 => r.Scalar<int>(),
        GgufValueType.Float32 => r.Scalar<float>(),
        GgufValueType.Bool => r.U8() switch
        {
            0 => false,
            1 => true,
            var b => throw new InvalidDataException($"metadata '{key}': bool value {b} is neither 0 nor 1"),
        },
        GgufValueType.String => r.String($"metadata '{key}'"),
        GgufValueType.UInt64 => r.U64(),
        GgufValueType.Int64 => r.Scalar<long>(),
        GgufValueType.Float64 => r.Scalar<double>(),
        GgufValueType.Array => ReadArray(ref r, key, depth),
        _ => throw new InvalidDataException($"metadata '{key}' has unknown value type {(uint)type}"),
    };

    private static object ReadArray(ref Reader r, string key, int depth)
    {
        if (depth > 8) throw new InvalidDataException($"metadata '{key}': arrays nested too deeply");
        var elementType = (GgufValueType)r.U32();
        ulong count = r.U64();
        int minElementBytes = elementType switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
            GgufValueType.Array => 12,
            _ => throw new InvalidDataException($"metadata '{key}': array of unknown value type {(uint)elementType}"),
        };
        if (count > (ulong)(r.Remaining / minElementBytes) || count > int.MaxValue)
            throw new InvalidDataException($"metadata '{key}': array of {count} elements cannot fit in the file");
        int n = (int)count;
        switch (elementType)
        {
            case GgufValueType.UInt8: return r.Array<byte>(n);
            case GgufValueType.Int8: return r.Array<sbyte>(n);
            case GgufValueType.UInt16: return r.Array<ushort>(n);
            case GgufValueType.Int16: return r.Array<short>(n);
            case GgufValueType.UInt32: return r.Array<uint>(n);
            case GgufValueType.Int32: return r.Array<int>(n);
            case GgufValueType.Float32: return r.Array<float>(n);
            case GgufValueType.UInt64: return r.Array<ulong>(n);
            case GgufValueType.Int64: return r.Array<long>(n);
            case GgufValueType.Float64: return r.Array<double>(n);
            case GgufValueType.Bool:
            {
                var bytes = r.Array<byte>(n);
                var result = new bool[n];
                for (int i = 0; i < n; i++) result[i] = bytes[i] != 0;
                return result;
            }
            case GgufValueType.String:
            {
                var result = new string[n];
                for (int i = 0; i < n; i++) result[i] = r.String($"metadata '{key}'[{i}]");
                return result;
            }
            default:
            {
                var result = new object[n];
                for (int i = 0; i < n; i++) result[i] = ReadArray(ref r, key, depth + 1);
                return result;
            }
        }
    }

    /// <summary>A cursor over the mapped file that checks every read against the file length.</summary>
    private ref struct Reader(byte* basePtr, long length)
    {
        public long Position;
        public readonly long Length = length;
        public readonly long Remaining => Length - Position;

        private void Need(long bytes)
        {
            if (bytes < 0 || bytes > Length - Position)
                throw new InvalidDataException($"unexpected end of file at offset {Position} (needed {bytes} more bytes; truncated file?)");
        }

        public T Scalar<T>() where T : unmanaged
        {
            Need(sizeof(T));
            T v = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<T>(basePtr + Position);
            Position += sizeof(T);
            return v;
        }

        public byte U8() => Scalar<byte>();
        public uint U32() => Scalar<uint>();
        public ulong U64() => Scalar<ulong>();

        public T[] Array<T>(int count) where T : unmanaged
        {
            long bytes = (long)count * sizeof(T);
            Need(bytes);
            var result = new T[count];
            new ReadOnlySpan<byte>(basePtr + Position, (int)bytes).CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
            Position += bytes;
            return result;
        }

        public string String(string what)
        {
            ulong len = U64();
            if (len > (ulong)Remaining)
                throw new InvalidDataException($"{what}: string length {len} runs past the end of the file");
            if (len > 1 << 30)
                throw new InvalidDataException($"{what}: string length {len} is too large");
            var s = Encoding.UTF8.GetString(basePtr + Position, (int)len);
            Position += (long)len;
            return s;
        }
    }
}

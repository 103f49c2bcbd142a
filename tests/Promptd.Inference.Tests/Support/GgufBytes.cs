using System.Buffers.Binary;
using System.Text;

namespace Promptd.Inference.Tests.Support;

/// <summary>Finds and overwrites fields of a GGUF file's bytes, to build corrupt files from a valid one.</summary>
public sealed class GgufBytes(byte[] bytes)
{
    public byte[] Bytes { get; private set; } = bytes;

    /// <summary>Offset of the first occurrence of <paramref name="text"/>'s UTF-8 bytes.</summary>
    public int Find(string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        int at = Bytes.AsSpan().IndexOf(needle);
        if (at < 0) throw new InvalidOperationException($"'{text}' not in the file");
        return at;
    }

    /// <summary>Offset of a metadata entry's value type field (the value follows it).</summary>
    public int KeyType(string key) => Find(key) + Encoding.UTF8.GetByteCount(key);

    /// <summary>Offset of a tensor info's dimension count (dims, type and offset follow).</summary>
    public int TensorInfo(string name) => Find(name) + Encoding.UTF8.GetByteCount(name);

    public GgufBytes U32(int at, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(at), value);
        return this;
    }

    public GgufBytes U64(int at, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan(at), value);
        return this;
    }

    public GgufBytes Text(int at, string text)
    {
        Encoding.UTF8.GetBytes(text).CopyTo(Bytes, at);
        return this;
    }

    public GgufBytes Truncate(int length)
    {
        Bytes = Bytes[..length];
        return this;
    }
}

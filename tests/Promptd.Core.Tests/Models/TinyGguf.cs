using System.Buffers.Binary;
using System.Text;

namespace Promptd.Core.Tests.Models;

/// <summary>
/// Writes a minimal GGUF v3 file in memory (two metadata strings, one F32 tensor of pseudo-random
/// values) for the download tests to serve. Test-local on purpose: once the project's GgufWriter is
/// on main it can replace this.
/// </summary>
internal static class TinyGguf
{
    private const int Alignment = 32;

    /// <param name="floats">Elements of the tensor: the file is about 4 bytes each plus ~150 of header.</param>
    public static byte[] Create(int floats, int seed = 1)
    {
        var header = new MemoryStream();
        var w = new BinaryWriter(header);
        w.Write(0x46554747u);            // "GGUF"
        w.Write(3u);                     // version
        w.Write(1UL);                    // tensor count
        w.Write(2UL);                    // metadata count
        WriteString(w, "general.architecture");
        w.Write(8u);                     // string
        WriteString(w, "llama");
        WriteString(w, "general.name");
        w.Write(8u);
        WriteString(w, $"tiny-{seed}");
        WriteString(w, "weights");       // tensor info
        w.Write(1u);                     // dimensions
        w.Write((ulong)floats);
        w.Write(0u);                     // F32
        w.Write(0UL);                    // offset in the data section
        w.Flush();

        int dataStart = (int)((header.Length + Alignment - 1) / Alignment * Alignment);
        var file = new byte[dataStart + floats * 4];
        header.ToArray().CopyTo(file, 0);
        var random = new Random(seed);
        for (int i = 0; i < floats; i++)
            BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(dataStart + i * 4), (float)random.NextDouble());
        return file;
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}

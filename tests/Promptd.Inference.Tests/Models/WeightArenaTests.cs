using System.Runtime.InteropServices;
using Promptd.Inference.Models;

namespace Promptd.Inference.Tests.Models;

public sealed unsafe class WeightArenaTests
{
    [Fact]
    public void Copies_are_aligned_exact_and_apart_and_leave_the_source_readable()
    {
        var random = new Random(3);
        using var arena = new WeightArena();
        // Sizes that are not multiples of 64, and some that span several pages.
        int[] sizes = [100, 4096 * 3 + 5, 3 << 20, 64];
        var sources = new byte[sizes.Length][];
        var copies = new nint[sizes.Length];
        for (int i = 0; i < sizes.Length; i++)
        {
            sources[i] = new byte[sizes[i]];
            random.NextBytes(sources[i]);
            // The source is dropped page by page after the copy; anonymous memory reads back as zeros then,
            // so copy from a second buffer and keep the first for the comparison.
            byte* source = (byte*)NativeMemory.AlignedAlloc((nuint)sizes[i], 4096);
            sources[i].CopyTo(new Span<byte>(source, sizes[i]));
            copies[i] = (nint)arena.Copy(source, sizes[i]);
            NativeMemory.AlignedFree(source);
        }
        for (int i = 0; i < sizes.Length; i++)
        {
            Assert.Equal(0, copies[i] % 64);
            Assert.True(new ReadOnlySpan<byte>((void*)copies[i], sizes[i]).SequenceEqual(sources[i]), $"copy {i} differs");
            for (int j = 0; j < i; j++)
                Assert.True(copies[i] >= copies[j] + sizes[j] || copies[j] >= copies[i] + sizes[i], $"copies {j} and {i} overlap");
        }
    }
}

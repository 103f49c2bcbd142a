using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Promptd.Inference.Benchmarks;
using Promptd.Inference.Kernels;
using Promptd.Inference.Tensors;

namespace Promptd.Bench;

/// <summary>
/// One thread's matrix-product throughput per kernel path, on a TinyLlama feed-forward shaped
/// matrix (5,632 × 2,048) of one weight type: GMAC/s on its first 256 rows, which stay in L2 (what
/// the instructions allow) and, for one token, over 240 MB of copies (memory: what generation sees),
/// beside a plain streaming read of the same bytes. The paths are measured in turns, round after
/// round, so they share the machine's noise; medians are printed.
/// </summary>
internal static unsafe class KernelBenchmark
{
    private const int Rows = 5632, Columns = 2048, CachedRows = 256;

    public static void Run(string typeName, int tokens, int rounds)
    {
        var type = TensorTypes.Get(Enum.Parse<Promptd.Inference.Gguf.GgmlType>(typeName, ignoreCase: true));
        long rowBytes = type.RowBytes(Columns), matrixBytes = Rows * rowBytes;
        int copies = tokens == 1 ? (int)Math.Max(1, 240_000_000 / matrixBytes) : 1;
        var matrices = Allocate(type, rowBytes, copies);
        var x = new float[Columns * tokens];
        var random = new Random(2);
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() - 0.5);
        var y = new float[Rows * tokens];

        var paths = KernelPaths.Available.Where(p => p != KernelPath.Scalar).ToArray();
        var cached = paths.ToDictionary(p => p, _ => new List<double>());
        var streamed = paths.ToDictionary(p => p, _ => new List<double>());
        var read = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            foreach (var path in paths)
            {
                var kernels = KernelPaths.Create(path);
                var scratch = new byte[kernels.ScratchBytes(matrices[0], tokens)];
                kernels.ConvertActivations(matrices[0], x, tokens, scratch);
                cached[path].Add(Measure(kernels, matrices.AsSpan(0, 1), CachedRows, scratch, tokens, y, repeats: Math.Max(8, 8192 / tokens)));
                if (copies > 1) streamed[path].Add(Measure(kernels, matrices, Rows, scratch, tokens, y, repeats: 2));
            }
            if (copies > 1) read.Add(StreamRead(matrices, matrixBytes));
        }

        Console.WriteLine($"{type.Name}, {tokens} token(s), {Rows} × {Columns}, one thread, medians of {rounds} rounds:");
        Console.WriteLine("| kernels | in L2 GMAC/s | from memory GMAC/s | from memory GB/s | of a streaming read |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        double readMedian = read.Count > 0 ? EngineBenchmark.Median([.. read]) : double.NaN;
        foreach (var path in paths)
        {
            string fromMemory = "– | – | –";
            if (streamed[path].Count > 0)
            {
                double memory = EngineBenchmark.Median([.. streamed[path]]);
                double gigabytes = memory * 1e9 / ((double)Columns * tokens) * rowBytes / 1e9;
                fromMemory = string.Create(CultureInfo.InvariantCulture, $"{memory:F1} | {gigabytes:F2} | {gigabytes / readMedian:P0}");
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {KernelPaths.Name(path)} | {EngineBenchmark.Median([.. cached[path]]):F1} | {fromMemory} |"));
        }
        if (read.Count > 0) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"streaming read of the same bytes: {readMedian:F2} GB/s"));
    }

    /// <summary>Copies of one quantized random matrix, each prepared (interleaved) for the SIMD kernels.</summary>
    private static MatrixView[] Allocate(TensorType type, long rowBytes, int copies)
    {
        var source = new byte[Rows * rowBytes];
        var random = new Random(1);
        var row = new float[Columns];
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Columns; c++) row[c] = (float)(random.NextDouble() - 0.5);
            type.QuantizeRow(row, source.AsSpan((int)(r * rowBytes), (int)rowBytes));
        }
        var prepare = KernelPaths.Create(KernelPath.Auto);
        var matrices = new MatrixView[copies];
        for (int m = 0; m < copies; m++)
        {
            byte* data = (byte*)NativeMemory.AlignedAlloc((nuint)source.Length, 64); // freed at exit
            source.CopyTo(new Span<byte>(data, source.Length));
            matrices[m] = prepare.Prepare(new MatrixView(data, type, Rows, Columns, rowBytes));
        }
        return matrices;
    }

    private static double Measure(IMatrixKernels kernels, ReadOnlySpan<MatrixView> matrices, int rows, byte[] scratch, int tokens, float[] y, int repeats)
    {
        foreach (var m in matrices) kernels.MatMul(m, scratch, tokens, y, 0, rows); // warm-up
        long start = Stopwatch.GetTimestamp();
        for (int r = 0; r < repeats; r++)
            foreach (var m in matrices) kernels.MatMul(m, scratch, tokens, y, 0, rows);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (double)repeats * matrices.Length * rows * Columns * tokens / seconds / 1e9;
    }

    private static double StreamRead(MatrixView[] matrices, long matrixBytes)
    {
        var sum = Vector256<byte>.Zero;
        long start = Stopwatch.GetTimestamp();
        foreach (var m in matrices)
        {
            byte* p = m.RowPointer(0);
            for (long i = 0; i + 128 <= matrixBytes; i += 128)
                sum ^= Vector256.Load(p + i) ^ Vector256.Load(p + i + 32) ^ Vector256.Load(p + i + 64) ^ Vector256.Load(p + i + 96);
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        GC.KeepAlive(sum.GetElement(0));
        return matrices.Length * (double)matrixBytes / seconds / 1e9;
    }
}

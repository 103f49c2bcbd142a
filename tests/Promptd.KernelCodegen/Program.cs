// Multiplies a small matrix of every quantized weight format once on every SIMD path, with 1 to 9
// tokens, so that every tile of the quantized kernel is compiled. Not a benchmark: a test runs this
// with DOTNET_JitDisasm set and reads the code the JIT wrote for the tiles
// (Promptd.Inference.Tests, KernelCodegenTests).
using Promptd.Inference.Gguf;
using Promptd.Inference.Kernels;
using Promptd.Inference.Tensors;

GgmlType[] formats =
[
    GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
    GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
];
const int Rows = 48; // three groups of 16: the one-token path takes two groups at once, then one
var random = new Random(1);
int products = 0;
foreach (var path in KernelPaths.Available)
{
    if (path == KernelPath.Scalar) continue;
    var kernels = KernelPaths.Create(path);
    foreach (var id in formats)
    {
        var type = TensorTypes.Get(id);
        int columns = type.BlockSize == 256 ? 256 : 64;
        int rowBytes = type.RowBytes(columns);
        var weights = new byte[Rows * rowBytes];
        var row = new float[columns];
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < columns; c++) row[c] = (float)(random.NextDouble() - 0.5);
            type.QuantizeRow(row, weights.AsSpan(r * rowBytes, rowBytes));
        }
        unsafe
        {
            fixed (byte* data = weights)
            {
                var matrix = kernels.Prepare(new MatrixView(data, type, Rows, columns, rowBytes));
                for (int count = 1; count <= 9; count++)
                {
                    var x = new float[count * columns];
                    for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() - 0.5);
                    var y = new float[count * Rows];
                    kernels.MatMul(matrix, x, count, y, new byte[kernels.ScratchBytes(matrix, count)]);
                    products++;
                }
            }
        }
    }
}
Console.WriteLine($"{products} products");

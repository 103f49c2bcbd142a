using Promptd.Inference.Gguf;
using Promptd.Inference.Kernels;
using Promptd.Inference.Tensors;

namespace Promptd.Inference.Models;

/// <summary>
/// Looks tensors up by name and checks their shapes and types against the configuration, so a
/// wrong file fails at load time with the tensor named, never halfway through a forward pass.
/// Shapes are in ggml order: [columns, rows]. Matrices are handed to the kernels to prepare
/// (rearrange in place) unless <c>prepare</c> is false; with an <paramref name="arena"/>, a matrix
/// the kernels rearrange is first copied there out of the (then read-only) file mapping.
/// </summary>
internal sealed unsafe class WeightLoader(GgufFile file, IMatrixKernels kernels, WeightArena? arena)
{
    public MatrixView Matrix(string name, int columns, int rows, bool prepare = true) =>
        OptionalMatrix(name, columns, rows, prepare) ?? throw Missing(name);

    public MatrixView? OptionalMatrix(string name, int columns, int rows, bool prepare = true)
    {
        var info = file.FindTensor(name);
        if (info is null) return null;
        CheckShape(info, [columns, rows]);
        var type = Implemented(info);
        if (type.ActivationTypeId is null)
            throw new InvalidDataException($"{file.Path}: tensor '{name}' has type {type.Name}, which is an activation format, not a weight type");
        var view = new MatrixView(file.GetTensorPointer(info), type, rows, columns, type.RowBytes(columns));
        return prepare ? Prepare(name, view) : view;
    }

    /// <summary>The kernels' layout of a matrix; a corrupt one (an infinite or NaN weight or scale) is refused with the tensor named.</summary>
    public MatrixView Prepare(string name, MatrixView view)
    {
        try
        {
            if (arena is not null && !view.Interleaved && kernels.Rearranges(view.Type))
                view = new MatrixView(arena.Copy(view.RowPointer(0), (long)view.Rows * view.RowStride), view.Type, view.Rows, view.Columns, view.RowStride);
            return kernels.Prepare(view);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{file.Path}: tensor '{name}': {e.Message}", e);
        }
    }

    public float[] Vector(string name, int length) => OptionalVector(name, length) ?? throw Missing(name);

    public float[]? OptionalVector(string name, int length)
    {
        var info = file.FindTensor(name);
        if (info is null) return null;
        CheckShape(info, [length]);
        var values = new float[length];
        Implemented(info).DequantizeRow(file.GetTensorData(info), values);
        return values;
    }

    /// <summary>A bias vector the architecture requires, allows, or does not use (then it is ignored).</summary>
    public float[]? Bias(TensorUse use, string name, int length) => use switch
    {
        TensorUse.Required => Vector(name, length),
        TensorUse.Optional => OptionalVector(name, length),
        _ => null,
    };

    private TensorType Implemented(GgufTensorInfo info) =>
        TensorTypes.Find(info.Type)
        ?? throw new NotSupportedException($"{file.Path}: tensor '{info.Name}' has type {GgmlTypeInfo.Name(info.Type)}, which this engine does not support");

    private void CheckShape(GgufTensorInfo info, long[] expected)
    {
        if (!info.Dimensions.AsSpan().SequenceEqual(expected))
            throw new InvalidDataException(
                $"{file.Path}: tensor '{info.Name}' has shape [{string.Join(", ", info.Dimensions)}], expected [{string.Join(", ", expected)}]");
    }

    private InvalidDataException Missing(string name) => new($"{file.Path}: tensor '{name}' is missing");
}

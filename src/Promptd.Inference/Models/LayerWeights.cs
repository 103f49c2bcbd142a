using Promptd.Inference.Kernels;

namespace Promptd.Inference.Models;

/// <summary>One transformer block's tensors: matrices stay in the mapped file, norms and biases are small float arrays.</summary>
internal sealed class LayerWeights
{
    public required float[] AttentionNorm { get; init; }
    public required MatrixView Query { get; init; }
    public required MatrixView Key { get; init; }
    public required MatrixView Value { get; init; }
    public required MatrixView Output { get; init; }
    public float[]? QueryBias { get; init; }
    public float[]? KeyBias { get; init; }
    public float[]? ValueBias { get; init; }
    public float[]? OutputBias { get; init; }
    public required float[] FfnNorm { get; init; }
    public required MatrixView Gate { get; init; }
    public required MatrixView Up { get; init; }
    public required MatrixView Down { get; init; }
}

using Promptd.Inference.Gguf;
using Promptd.Inference.Kernels;
using Promptd.Inference.Models;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Models;

/// <summary>
/// The SIMD kernels convert F16 weights and block scales the short way, which is exact for finite
/// values only, so they refuse a file with an infinite or NaN one — naming the tensor — rather than
/// compute with it. The scalar reference computes with whatever the file holds.
/// </summary>
public class CorruptWeightTests
{
    public static TheoryData<GgmlType, KernelPath> Cases =>
        KernelPathData.Each(new[] { GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.F16 });

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_infinite_scale_or_weight_is_refused_by_the_SIMD_kernels(GgmlType type, KernelPath path)
    {
        using var folder = new TempDirectory();
        var spec = (Promptd.Inference.Tensors.TensorTypes.Get(type).BlockSize == 256 ? GeneratedModels.SmallK : GeneratedModels.Small) with { WeightType = type };
        string file = folder.File("model.gguf");
        Promptd.Inference.Synthetic.SyntheticModel.Write(file, spec);

        // F16 infinity in the first block's d (Q8_0, Q4_K: bytes 0–1), or as the first F16 weight, of blk.1.ffn_up.weight.
        long at;
        using (var gguf = GgufFile.Open(file)) at = gguf.DataOffset + gguf.GetTensor("blk.1.ffn_up.weight").Offset;
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            stream.Position = at;
            stream.Write([0x00, 0x7C]);
        }

        if (path == KernelPath.Scalar)
        {
            using var model = TransformerModel.Load(file, KernelPathData.Options(path));
            return;
        }
        var e = Assert.Throws<InvalidDataException>(() => TransformerModel.Load(file, KernelPathData.Options(path)));
        Assert.Contains("blk.1.ffn_up.weight", e.Message);
        Assert.Contains("infinite or NaN", e.Message);
    }
}

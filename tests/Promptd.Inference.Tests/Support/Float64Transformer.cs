using Promptd.Inference.Gguf;
using Promptd.Inference.Tensors;

namespace Promptd.Inference.Tests.Support;

/// <summary>
/// A plain float64 llama/qwen2 forward pass, written from the architecture's definition and kept
/// independent of the engine (it reads hyperparameters straight from the metadata): the yardstick
/// the engine is compared with on generated models.
/// </summary>
public sealed class Float64Transformer
{
    private readonly int _embd, _layers, _heads, _kvHeads, _headDim, _ff, _vocab;
    private readonly double _eps, _base, _ropeScale;
    private readonly bool _neox;
    private readonly double[][] _embedding, _output;
    private readonly double[] _outputNorm;
    private readonly double[]? _ropeFactors;
    private readonly Layer[] _blocks;

    private sealed record Layer(double[] AttnNorm, double[][] Q, double[][] K, double[][] V, double[][] O,
        double[]? Bq, double[]? Bk, double[]? Bv, double[] FfnNorm, double[][] Gate, double[][] Up, double[][] Down);

    public Float64Transformer(string path)
    {
        using var f = GgufFile.Open(path);
        var md = f.Metadata;
        string arch = md.GetRequiredString("general.architecture");
        long Int(string key) => md.GetRequiredInteger(arch + "." + key);
        _embd = (int)Int("embedding_length");
        _layers = (int)Int("block_count");
        _heads = (int)Int("attention.head_count");
        _kvHeads = (int)(md.GetInteger(arch + ".attention.head_count_kv") ?? _heads);
        _headDim = _embd / _heads;
        _ff = (int)Int("feed_forward_length");
        _eps = md.GetNumber(arch + ".attention.layer_norm_rms_epsilon")!.Value;
        _base = md.GetNumber(arch + ".rope.freq_base") ?? 10000.0;
        _ropeScale = 1.0 / (md.GetNumber(arch + ".rope.scaling.factor") ?? 1.0);
        _neox = arch == "qwen2";
        _vocab = md.GetArray<string>("tokenizer.ggml.tokens")!.Length;

        _embedding = Rows(f, "token_embd.weight");
        _output = f.FindTensor("output.weight") is null ? _embedding : Rows(f, "output.weight");
        _outputNorm = Rows(f, "output_norm.weight")[0];
        _ropeFactors = f.FindTensor("rope_freqs.weight") is null ? null : Rows(f, "rope_freqs.weight")[0];
        _blocks = new Layer[_layers];
        for (int l = 0; l < _layers; l++)
        {
            string p = $"blk.{l}.";
            double[]? Bias(string name) => f.FindTensor(p + name) is null ? null : Rows(f, p + name)[0];
            _blocks[l] = new Layer(Rows(f, p + "attn_norm.weight")[0], Rows(f, p + "attn_q.weight"), Rows(f, p + "attn_k.weight"),
                Rows(f, p + "attn_v.weight"), Rows(f, p + "attn_output.weight"), Bias("attn_q.bias"), Bias("attn_k.bias"), Bias("attn_v.bias"),
                Rows(f, p + "ffn_norm.weight")[0], Rows(f, p + "ffn_gate.weight"), Rows(f, p + "ffn_up.weight"), Rows(f, p + "ffn_down.weight"));
        }
    }

    private static double[][] Rows(GgufFile f, string name)
    {
        var info = f.GetTensor(name);
        var type = TensorTypes.Get(info.Type);
        int cols = (int)info.Columns, rows = (int)info.Rows, rowBytes = type.RowBytes(cols);
        var data = f.GetTensorData(info);
        var result = new double[rows][];
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            type.DequantizeRow(data.Slice(r * rowBytes, rowBytes), row);
            result[r] = Array.ConvertAll(row, v => (double)v);
        }
        return result;
    }

    /// <summary>Logits of every position of <paramref name="tokens"/>, evaluated from an empty cache.</summary>
    public double[][] Forward(int[] tokens)
    {
        int n = tokens.Length;
        var keys = new double[_layers][][];
        var values = new double[_layers][][];
        for (int l = 0; l < _layers; l++) { keys[l] = new double[n][]; values[l] = new double[n][]; }
        var logits = new double[n][];
        for (int pos = 0; pos < n; pos++)
        {
            var x = (double[])_embedding[tokens[pos]].Clone();
            for (int l = 0; l < _layers; l++)
            {
                var b = _blocks[l];
                var h = RmsNorm(x, b.AttnNorm);
                var q = Add(MatVec(b.Q, h), b.Bq);
                var k = Add(MatVec(b.K, h), b.Bk);
                var v = Add(MatVec(b.V, h), b.Bv);
                Rotate(q, pos);
                Rotate(k, pos);
                keys[l][pos] = k;
                values[l][pos] = v;

                var attention = new double[_heads * _headDim];
                for (int head = 0; head < _heads; head++)
                {
                    int kvHead = head / (_heads / _kvHeads);
                    var scores = new double[pos + 1];
                    for (int j = 0; j <= pos; j++)
                    {
                        double dot = 0;
                        for (int i = 0; i < _headDim; i++) dot += q[head * _headDim + i] * keys[l][j][kvHead * _headDim + i];
                        scores[j] = dot / Math.Sqrt(_headDim);
                    }
                    Softmax(scores);
                    for (int j = 0; j <= pos; j++)
                        for (int i = 0; i < _headDim; i++)
                            attention[head * _headDim + i] += scores[j] * values[l][j][kvHead * _headDim + i];
                }
                var o = MatVec(b.O, attention);
                for (int i = 0; i < _embd; i++) x[i] += o[i];

                h = RmsNorm(x, b.FfnNorm);
                var gate = MatVec(b.Gate, h);
                var up = MatVec(b.Up, h);
                for (int i = 0; i < _ff; i++) gate[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
                var down = MatVec(b.Down, gate);
                for (int i = 0; i < _embd; i++) x[i] += down[i];
            }
            logits[pos] = MatVec(_output, RmsNorm(x, _outputNorm));
        }
        return logits;
    }

    private void Rotate(double[] v, int pos)
    {
        for (int start = 0; start < v.Length; start += _headDim)
        {
            for (int i = 0; i < _headDim / 2; i++)
            {
                double angle = pos * _ropeScale * Math.Pow(_base, -2.0 * i / _headDim) / (_ropeFactors?[i] ?? 1.0);
                int a = _neox ? start + i : start + 2 * i;
                int b = _neox ? start + i + _headDim / 2 : start + 2 * i + 1;
                double x0 = v[a], x1 = v[b];
                v[a] = x0 * Math.Cos(angle) - x1 * Math.Sin(angle);
                v[b] = x0 * Math.Sin(angle) + x1 * Math.Cos(angle);
            }
        }
    }

    private double[] RmsNorm(double[] x, double[] w)
    {
        double ss = 0;
        foreach (double v in x) ss += v * v;
        double scale = 1 / Math.Sqrt(ss / x.Length + _eps);
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * scale * w[i];
        return y;
    }

    private static double[] MatVec(double[][] m, double[] x)
    {
        var y = new double[m.Length];
        for (int r = 0; r < m.Length; r++)
        {
            double s = 0;
            for (int c = 0; c < x.Length; c++) s += m[r][c] * x[c];
            y[r] = s;
        }
        return y;
    }

    private static double[] Add(double[] x, double[]? bias)
    {
        if (bias is not null) for (int i = 0; i < x.Length; i++) x[i] += bias[i];
        return x;
    }

    private static void Softmax(double[] x)
    {
        double max = x.Max(), sum = 0;
        for (int i = 0; i < x.Length; i++) sum += x[i] = Math.Exp(x[i] - max);
        for (int i = 0; i < x.Length; i++) x[i] /= sum;
    }

    public int VocabSize => _vocab;
}

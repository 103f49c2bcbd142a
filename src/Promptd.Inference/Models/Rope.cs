namespace Promptd.Inference.Models;

/// <summary>
/// Rotary position embedding as ggml's rope_ext computes it (without YaRN): the angle of pair i at
/// position p is freqScale·p·base^(−2i/d)/factor_i, with base^(−2/d) applied by repeated float
/// multiplication as ggml does, so angles at long positions round the same way.
/// </summary>
internal static class Rope
{
    /// <summary>Fills <paramref name="angles"/> with cos, sin of every pair for positions start … start+n−1 ([n][d]).</summary>
    public static void ComputeAngles(int start, int n, ModelConfig c, float[]? frequencyFactors, Span<float> angles)
    {
        int d = c.HeadDimension;
        float thetaScale = MathF.Pow(c.RopeFreqBase, -2.0f / d);
        for (int t = 0; t < n; t++)
        {
            float theta = start + t;
            var row = angles.Slice(t * d, d);
            for (int i = 0; i < d; i += 2)
            {
                float factor = frequencyFactors?[i / 2] ?? 1.0f;
                float angle = c.RopeFreqScale * (theta / factor);
                row[i] = MathF.Cos(angle);
                row[i + 1] = MathF.Sin(angle);
                theta *= thetaScale;
            }
        }
    }

    /// <summary>Rotates every head of n tokens' vectors ([n][heads·d]) in place.</summary>
    public static void Apply(Span<float> vectors, int heads, int n, ModelConfig c, ReadOnlySpan<float> angles)
    {
        int d = c.HeadDimension;
        bool neox = c.Architecture.Rope == RopeStyle.NeoX;
        for (int t = 0; t < n; t++)
        {
            var cosSin = angles.Slice(t * d, d);
            for (int h = 0; h < heads; h++)
            {
                var v = vectors.Slice((t * heads + h) * d, d);
                for (int i = 0; i < d; i += 2)
                {
                    // Normal style rotates (i, i+1); NeoX style rotates (i/2, i/2 + d/2).
                    int a = neox ? i / 2 : i;
                    int b = neox ? i / 2 + d / 2 : i + 1;
                    float cos = cosSin[i], sin = cosSin[i + 1];
                    float x0 = v[a], x1 = v[b];
                    v[a] = x0 * cos - x1 * sin;
                    v[b] = x0 * sin + x1 * cos;
                }
            }
        }
    }
}

namespace Promptd.Inference.Tests.Support;

public static class Gaussian
{
    /// <summary><paramref name="n"/> N(0, σ²) samples from a seeded generator (Box–Muller).</summary>
    public static float[] Samples(int n, int seed, float sigma = 1f)
    {
        var random = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
            x[i] = sigma * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return x;
    }
}

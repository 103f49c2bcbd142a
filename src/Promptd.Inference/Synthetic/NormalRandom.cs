namespace Promptd.Inference.Synthetic;

/// <summary>
/// Standard normal samples from SplitMix64 and the Box–Muller transform: fast, and fixed by
/// (seed, tensor, row) alone, so a synthetic model is the same on every machine and runtime.
/// </summary>
internal struct NormalRandom(int seed, int tensor, int row)
{
    private ulong _state = Mix(Mix(Mix((ulong)seed) + (ulong)tensor) + (ulong)row);
    private float _spare = float.NaN;

    public float Next()
    {
        if (!float.IsNaN(_spare))
        {
            float s = _spare;
            _spare = float.NaN;
            return s;
        }
        // u1 in (0, 1] so that the logarithm is finite.
        double u1 = (NextBits() + 1.0) / (1UL << 53);
        double u2 = NextBits() / (double)(1UL << 53);
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = (float)(radius * Math.Sin(2 * Math.PI * u2));
        return (float)(radius * Math.Cos(2 * Math.PI * u2));
    }

    private ulong NextBits()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state) >> 11;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

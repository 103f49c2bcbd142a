namespace Promptd.Inference.Tensors;

/// <summary>
/// The scale searches of ggml's K-quant reference quantizers (ggml-quants.c), kept operation for
/// operation in the same float order so that files written here match llama-quantize's.
/// </summary>
internal static class KQuantMath
{
    /// <summary>Below this magnitude a group counts as all zero.</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>Round to nearest, ties to even, with ggml's float trick (exact for |x| ≤ 2²²).</summary>
    public static int NearestInt(float x)
    {
        float v = x + 12582912f;
        return (BitConverter.SingleToInt32Bits(v) & 0x007fffff) - 0x00400000;
    }

    private static int Clamp(int l, int min, int max) => Math.Max(min, Math.Min(max, l));

    /// <summary>The value of largest magnitude (the first such on ties), sign included.</summary>
    public static float SignedMax(ReadOnlySpan<float> x)
    {
        float max = 0, amax = 0;
        foreach (float v in x)
        {
            float a = MathF.Abs(v);
            if (a > amax) { amax = a; max = v; }
        }
        return max;
    }

    /// <summary>
    /// Levels round(iscale·x) clamped to [−nmax, nmax), and the x²-weighted sums Σw·x·l and Σw·l²
    /// of the least-squares scale Σw·x·l / Σw·l². Writes level + <paramref name="offset"/> to
    /// <paramref name="L"/> unless it is empty.
    /// </summary>
    private static (float SumLX, float SumL2) SymmetricFit(int nmax, float iscale, ReadOnlySpan<float> x, Span<sbyte> L, int offset)
    {
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < x.Length; i++)
        {
            int l = Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            if (!L.IsEmpty) L[i] = (sbyte)(l + offset);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        return (sumlx, suml2);
    }

    /// <summary>
    /// Symmetric levels in [−nmax, nmax) weighted by x² (ggml's make_qx_quants, rmse_type 1): tries
    /// 19 scales around nmax/max and keeps the one with the best weighted fit. Writes L = level + nmax;
    /// returns the scale.
    /// </summary>
    public static float MakeQxQuants(int nmax, ReadOnlySpan<float> x, Span<sbyte> L)
    {
        float max = SignedMax(x);
        if (MathF.Abs(max) < GroupMaxEps)
        {
            L[..x.Length].Clear();
            return 0;
        }
        var (sumlx, suml2) = SymmetricFit(nmax, -nmax / max, x, L, nmax);
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0) continue;
            float iscale = -(nmax + 0.1f * step) / max;
            (sumlx, suml2) = SymmetricFit(nmax, iscale, x, [], 0);
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                SymmetricFit(nmax, iscale, x, L, nmax);
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /// <summary>
    /// Symmetric levels in [−nmax, nmax) for Q3_K (ggml's make_q3_quants with do_rmse): starts from
    /// nmax/max, then moves single levels while the x²-weighted fit improves (up to 5 passes).
    /// Writes L = level + nmax; returns the scale.
    /// </summary>
    public static float MakeQ3Quants(int nmax, ReadOnlySpan<float> x, Span<sbyte> L)
    {
        int n = x.Length;
        float max = SignedMax(x);
        if (MathF.Abs(max) < GroupMaxEps)
        {
            L[..n].Clear();
            return 0;
        }
        var (sumlx, suml2) = SymmetricFit(nmax, -nmax / max, x, L, 0);
        for (int pass = 0; pass < 5; pass++)
        {
            int changed = 0;
            for (int i = 0; i < n; i++)
            {
                float w = x[i] * x[i];
                float slx = sumlx - w * x[i] * L[i];
                if (slx > 0)
                {
                    float sl2 = suml2 - w * L[i] * L[i];
                    int newL = Clamp(NearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
                    if (newL != L[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            L[i] = (sbyte)newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        for (int i = 0; i < n; i++) L[i] += (sbyte)nmax;
        return sumlx / suml2;
    }

    /// <summary>
    /// Levels in [0, nmax] with a scale and a min (value ≈ scale·L − theMin), for Q2_K, Q4_K and Q5_K
    /// (ggml's make_qkx2_quants): tries nstep+1 scales around nmax/(max − min) and refits scale and
    /// min by weighted least squares, keeping the best by weighted squared (or absolute) error.
    /// </summary>
    public static float MakeQkx2Quants(int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> L,
        out float theMin, Span<byte> Laux, float rmin, float rdelta, int nstep, bool useMad)
    {
        int n = x.Length;
        float min = x[0], max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            L[..n].Clear();
            theMin = -min;
            return 0;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestMad = 0;
        for (int i = 0; i < n; i++)
        {
            int l = NearestInt(iscale * (x[i] - min));
            L[i] = (byte)Clamp(l, 0, nmax);
            float diff = scale * L[i] + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            bestMad += weights[i] * diff;
        }
        if (nstep < 1)
        {
            theMin = -min;
            return scale;
        }
        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
                Laux[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float mad = 0;
                for (int i = 0; i < n; i++)
                {
                    float diff = thisScale * Laux[i] + thisMin - x[i];
                    diff = useMad ? MathF.Abs(diff) : diff * diff;
                    mad += weights[i] * diff;
                }
                if (mad < bestMad)
                {
                    Laux[..n].CopyTo(L);
                    bestMad = mad;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }
}

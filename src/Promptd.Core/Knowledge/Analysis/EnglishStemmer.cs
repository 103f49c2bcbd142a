namespace Promptd.Core.Knowledge.Analysis;

/// <summary>
/// Light English stemming: steps 1a, 1b, 1c and 5a of Porter's algorithm (M. F. Porter, "An algorithm
/// for suffix stripping", 1980) — plurals, -ed and -ing, a final y, a final e — and none of the
/// derivational steps, so "running", "runs" → "run", "foxes", "fox" → "fox", "queries", "query" →
/// "queri", but "organization" stays apart from "organ". Applied to lower-case ASCII words of three
/// letters or more; anything else is returned unchanged.
/// </summary>
public static class EnglishStemmer
{
    public static string Stem(string word)
    {
        if (word.Length < 3) return word;
        foreach (var c in word)
        {
            if (c is < 'a' or > 'z') return word;
        }
        var w = word;
        w = Step1a(w);
        w = Step1b(w);
        w = Step1c(w);
        w = Step5a(w);
        return w;
    }

    private static string Step1a(string w)
    {
        if (w.EndsWith("sses", StringComparison.Ordinal)) return w[..^2];
        if (w.EndsWith("ies", StringComparison.Ordinal)) return w[..^2];
        if (w.EndsWith("ss", StringComparison.Ordinal)) return w;
        if (w.EndsWith('s')) return w[..^1];
        return w;
    }

    private static string Step1b(string w)
    {
        if (w.EndsWith("eed", StringComparison.Ordinal))
        {
            return Measure(w.AsSpan(0, w.Length - 3)) > 0 ? w[..^1] : w;
        }
        string stem;
        if (w.EndsWith("ed", StringComparison.Ordinal) && HasVowel(w.AsSpan(0, w.Length - 2))) stem = w[..^2];
        else if (w.EndsWith("ing", StringComparison.Ordinal) && HasVowel(w.AsSpan(0, w.Length - 3))) stem = w[..^3];
        else return w;

        if (stem.EndsWith("at", StringComparison.Ordinal) || stem.EndsWith("bl", StringComparison.Ordinal) || stem.EndsWith("iz", StringComparison.Ordinal)) return stem + "e";
        if (EndsWithDoubleConsonant(stem) && stem[^1] is not ('l' or 's' or 'z')) return stem[..^1];
        if (Measure(stem) == 1 && EndsCvc(stem)) return stem + "e";
        return stem;
    }

    private static string Step1c(string w) =>
        w.EndsWith('y') && HasVowel(w.AsSpan(0, w.Length - 1)) ? w[..^1] + "i" : w;

    /// <summary>Drops a final e when the stem is long enough ("foxe" → "fox", "file" stays).</summary>
    private static string Step5a(string w)
    {
        if (!w.EndsWith('e')) return w;
        var stem = w[..^1];
        var m = Measure(stem);
        return m > 1 || (m == 1 && !EndsCvc(stem)) ? stem : w;
    }

    private static bool IsConsonant(ReadOnlySpan<char> w, int i) => w[i] switch
    {
        'a' or 'e' or 'i' or 'o' or 'u' => false,
        'y' => i == 0 || !IsConsonant(w, i - 1),
        _ => true,
    };

    /// <summary>m in [C](VC)^m[V]: the number of vowel-consonant sequences.</summary>
    private static int Measure(ReadOnlySpan<char> w)
    {
        var m = 0;
        var i = 0;
        while (i < w.Length && IsConsonant(w, i)) i++;
        while (i < w.Length)
        {
            while (i < w.Length && !IsConsonant(w, i)) i++;
            if (i == w.Length) break;
            while (i < w.Length && IsConsonant(w, i)) i++;
            m++;
        }
        return m;
    }

    private static bool HasVowel(ReadOnlySpan<char> w)
    {
        for (var i = 0; i < w.Length; i++)
        {
            if (!IsConsonant(w, i)) return true;
        }
        return false;
    }

    private static bool EndsWithDoubleConsonant(string w) =>
        w.Length >= 2 && w[^1] == w[^2] && IsConsonant(w, w.Length - 1);

    /// <summary>consonant-vowel-consonant at the end, the last not w, x or y ("hop" → "hope" after -ing).</summary>
    private static bool EndsCvc(string w)
    {
        var n = w.Length;
        return n >= 3 && IsConsonant(w, n - 3) && !IsConsonant(w, n - 2) && IsConsonant(w, n - 1) && w[n - 1] is not ('w' or 'x' or 'y');
    }
}

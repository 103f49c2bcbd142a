namespace Promptd.Inference.Generation;

/// <summary>
/// Watches streamed text for stop strings. Text that could still turn out to be the start of a
/// stop string is held back until it either completes the stop (the output is cut exactly before
/// it; the stop string itself is never emitted) or stops matching (it is released). Not thread-safe.
/// </summary>
public sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private readonly int _longest;
    private string _pending = "";

    /// <summary>Whether a stop string has been found; no more text is emitted after it.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The stop string found, or null.</summary>
    public string? MatchedStop { get; private set; }

    /// <param name="stops">Stop strings; empty ones are ignored.</param>
    public StopStringMatcher(IEnumerable<string> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        _stops = stops.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal).ToArray();
        _longest = _stops.Length == 0 ? 0 : _stops.Max(s => s.Length);
    }

    /// <summary>Feeds new text; returns the text that is safe to emit now (possibly "").</summary>
    public string Append(string text)
    {
        if (Stopped || text.Length == 0) return "";
        if (_stops.Length == 0) return text;
        string pending = _pending + text;

        int cut = -1;
        foreach (var stop in _stops)
        {
            int at = pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut))
            {
                cut = at;
                MatchedStop = stop;
            }
        }
        if (cut >= 0)
        {
            Stopped = true;
            _pending = "";
            return pending[..cut];
        }

        int hold = HeldBack(pending);
        _pending = pending[^hold..];
        return pending[..^hold];
    }

    /// <summary>At the end of the stream: the text held back, which never became a stop string.</summary>
    public string Flush()
    {
        string rest = _pending;
        _pending = "";
        return Stopped ? "" : rest;
    }

    /// <summary>The length of the longest end of <paramref name="text"/> that some stop string starts with.</summary>
    private int HeldBack(string text)
    {
        for (int k = Math.Min(text.Length, _longest - 1); k > 0; k--)
        {
            if (char.IsLowSurrogate(text[^k])) continue; // never split a character
            var tail = text.AsSpan(text.Length - k);
            foreach (var stop in _stops)
            {
                if (stop.AsSpan().StartsWith(tail, StringComparison.Ordinal)) return k;
            }
        }
        return 0;
    }
}

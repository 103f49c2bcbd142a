using System.Security.Cryptography;

namespace Promptd.Inference.Sampling;

/// <summary>
/// Picks the next token from a row of logits. Every buffer is allocated once for the vocabulary
/// size, so sampling a token allocates nothing; top-k selects with a k-sized heap (O(V log k))
/// and top-p pops a heap only as far as the nucleus reaches, so no step sorts the whole vocabulary
/// unless the nucleus really is that wide. Not thread-safe: one sampler per generated sequence.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly float[] _logits;     // the penalized logits
    private readonly int[] _candidates;   // candidate ids; [0, _count) when _restricted
    private readonly int[] _heap;
    private readonly float[] _weights;    // the draw's unnormalized probabilities, by candidate index
    private readonly int[] _counts;       // occurrences of each token in the penalty window
    private readonly int[] _penalizedAt;  // the step a token was last penalized in (apply once per step)
    private readonly int[] _window;       // recent tokens, a ring
    private int _windowStart, _windowCount, _step;
    private Xoshiro256StarStar _random;

    // The candidate set: all ids (not restricted), or _candidates[0.._count), sorted best first when _sorted.
    private bool _restricted, _sorted;
    private int _count;

    public int VocabSize { get; }
    public SamplingOptions Options => _options;

    /// <summary>The seed in use (drawn at random when the options had none), so a run can be repeated.</summary>
    public ulong Seed { get; }

    public Sampler(int vocabSize, SamplingOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        VocabSize = vocabSize;
        _options = options;
        _logits = new float[vocabSize];
        _candidates = new int[vocabSize];
        _heap = new int[vocabSize];
        _weights = new float[vocabSize];
        _counts = new int[vocabSize];
        _penalizedAt = new int[vocabSize];
        _window = new int[Math.Max(options.PenaltyWindow, 1)];
        Seed = options.Seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        _random = new Xoshiro256StarStar(Seed);
    }

    /// <summary>Forgets the token history and restarts the random sequence from the seed.</summary>
    public void Reset()
    {
        Array.Clear(_counts);
        _windowStart = _windowCount = 0;
        _random = new Xoshiro256StarStar(Seed);
    }

    /// <summary>Records a token (prompt or generated) for the repetition penalties.</summary>
    public void Accept(int token)
    {
        if ((uint)token >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(token), token, "token id outside the vocabulary");
        if (_options.PenaltyWindow == 0) return;
        if (_windowCount == _window.Length)
        {
            _counts[_window[_windowStart]]--;
            _window[_windowStart] = token;
            _windowStart = (_windowStart + 1) % _window.Length;
        }
        else
        {
            _window[(_windowStart + _windowCount++) % _window.Length] = token;
        }
        _counts[token]++;
    }

    /// <summary>Chooses the next token. Does not record it: call <see cref="Accept"/> with the token kept.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (logits.Length != VocabSize)
            throw new ArgumentException($"expected {VocabSize} logits, got {logits.Length}", nameof(logits));
        logits.CopyTo(_logits);
        if (_options.HasPenalties) ApplyPenalties();
        if (_options.IsGreedy) return ArgMax(_logits);

        _restricted = _sorted = false;
        _count = VocabSize;
        if (_options.TopK > 0 && _options.TopK < VocabSize) KeepTopK(_options.TopK);
        if (_options.TopP < 1) KeepNucleus(_options.TopP);
        if (_options.MinP > 0) KeepAboveMinP(_options.MinP);
        return Draw(_options.Temperature);
    }

    private void ApplyPenalties()
    {
        _step++;
        float repeat = _options.RepeatPenalty, frequency = _options.FrequencyPenalty, presence = _options.PresencePenalty;
        for (int i = 0; i < _windowCount; i++)
        {
            int token = _window[(_windowStart + i) % _window.Length];
            if (_penalizedAt[token] == _step) continue;
            _penalizedAt[token] = _step;
            ref float logit = ref _logits[token];
            logit = logit <= 0 ? logit * repeat : logit / repeat;
            logit -= _counts[token] * frequency + presence;
        }
    }

    /// <summary>The highest logit's id, ties to the lowest id; NaN never wins.</summary>
    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        float max = float.NegativeInfinity;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] > max)
            {
                max = logits[i];
                best = i;
            }
        }
        return best;
    }

    private int CandidateCount => _restricted ? _count : VocabSize;
    private int CandidateAt(int i) => _restricted ? _candidates[i] : i;

    /// <summary>Whether token a ranks before token b: higher logit, then lower id.</summary>
    private bool Better(int a, int b)
    {
        float la = _logits[a], lb = _logits[b];
        return la > lb || (la == lb && a < b) || (float.IsNaN(lb) && !float.IsNaN(la));
    }

    /// <summary>Keeps the k best with a min-heap of size k (its root is the worst kept), then orders them best first.</summary>
    private void KeepTopK(int k)
    {
        int size = 0;
        int n = CandidateCount;
        // Most tokens lose to the root at once: compare against its logit before the full ordering.
        float worstKept = float.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            int id = CandidateAt(i);
            if (size < k)
            {
                _heap[size] = id;
                SiftUp(size++, worstOnTop: true);
                if (size == k) worstKept = _logits[_heap[0]];
            }
            else if (_logits[id] >= worstKept && Better(id, _heap[0]))
            {
                _heap[0] = id;
                SiftDown(0, size, worstOnTop: true);
                worstKept = _logits[_heap[0]];
            }
        }
        // Popping the worst first fills the list from its end: best first.
        for (int i = size - 1; i >= 0; i--)
        {
            _candidates[i] = _heap[0];
            _heap[0] = _heap[i];
            SiftDown(0, i, worstOnTop: true);
        }
        _count = size;
        _restricted = _sorted = true;
    }

    /// <summary>Keeps the most likely tokens until their probability reaches p (at least one).</summary>
    private void KeepNucleus(float p)
    {
        int n = CandidateCount;
        float max = MaxLogit();
        if (float.IsNegativeInfinity(max)) return;
        double total = 0;
        for (int i = 0; i < n; i++) total += MathF.Exp(_logits[CandidateAt(i)] - max);
        double target = p * total, cumulative = 0;

        if (_sorted)
        {
            int kept = 0;
            while (kept < n)
            {
                cumulative += MathF.Exp(_logits[_candidates[kept++]] - max);
                if (cumulative >= target) break;
            }
            _count = kept;
            return;
        }

        // Unsorted: heapify (best on top) and pop only as many as the nucleus needs.
        for (int i = 0; i < n; i++) _heap[i] = CandidateAt(i);
        for (int i = n / 2 - 1; i >= 0; i--) SiftDown(i, n, worstOnTop: false);
        int size = n, count = 0;
        while (size > 0)
        {
            int best = _heap[0];
            _candidates[count++] = best;
            _heap[0] = _heap[--size];
            SiftDown(0, size, worstOnTop: false);
            cumulative += MathF.Exp(_logits[best] - max);
            if (cumulative >= target) break;
        }
        _count = count;
        _restricted = _sorted = true;
    }

    /// <summary>Keeps tokens whose probability is at least min-p times the top one's: logit ≥ max + ln(min-p).</summary>
    private void KeepAboveMinP(float minP)
    {
        float max = MaxLogit();
        if (float.IsNegativeInfinity(max)) return;
        float threshold = max + MathF.Log(minP);
        int n = CandidateCount, kept = 0;
        for (int i = 0; i < n; i++)
        {
            int id = CandidateAt(i);
            if (_logits[id] >= threshold) _candidates[kept++] = id; // order kept: writes never pass reads
        }
        _count = kept;
        _restricted = true;
    }

    private float MaxLogit()
    {
        if (_sorted) return _logits[_candidates[0]];
        float max = float.NegativeInfinity;
        int n = CandidateCount;
        for (int i = 0; i < n; i++) max = MathF.Max(max, _logits[CandidateAt(i)]);
        return max;
    }

    /// <summary>Draws a candidate with probability softmax(logit / temperature).</summary>
    private int Draw(float temperature)
    {
        float max = MaxLogit();
        int n = CandidateCount;
        if (float.IsNegativeInfinity(max) || float.IsNaN(max) || n == 0) return ArgMax(_logits);
        float inverseT = 1f / temperature;
        double total = 0;
        for (int i = 0; i < n; i++) total += _weights[i] = MathF.Exp((_logits[CandidateAt(i)] - max) * inverseT);
        double u = _random.NextDouble() * total, cumulative = 0;
        int last = CandidateAt(0);
        for (int i = 0; i < n; i++)
        {
            if (_weights[i] == 0) continue;
            cumulative += _weights[i];
            last = CandidateAt(i);
            if (u < cumulative) return last;
        }
        return last; // rounding left u at the very top
    }

    private void SiftUp(int i, bool worstOnTop)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Above(_heap[i], _heap[parent], worstOnTop)) break;
            (_heap[i], _heap[parent]) = (_heap[parent], _heap[i]);
            i = parent;
        }
    }

    private void SiftDown(int i, int size, bool worstOnTop)
    {
        while (true)
        {
            int left = 2 * i + 1, top = i;
            if (left < size && Above(_heap[left], _heap[top], worstOnTop)) top = left;
            if (left + 1 < size && Above(_heap[left + 1], _heap[top], worstOnTop)) top = left + 1;
            if (top == i) return;
            (_heap[i], _heap[top]) = (_heap[top], _heap[i]);
            i = top;
        }
    }

    /// <summary>Heap order: in a worst-on-top heap a worse token rises; in a best-on-top heap a better one.</summary>
    private bool Above(int a, int b, bool worstOnTop) => worstOnTop ? Better(b, a) : Better(a, b);
}

namespace Promptd.Inference.Sampling;

/// <summary>
/// How the next token is chosen. Defaults are llama.cpp's. The steps run in llama.cpp's order:
/// penalties, top-k, top-p, min-p, temperature, then a weighted draw (or argmax when greedy).
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Divides the logits before the draw; 0 (or less) means greedy: the most likely token, ties to the lowest id.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep only the k most likely tokens; 0 turns it off.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Keep the smallest set of most likely tokens whose probability adds up to p; 1 turns it off.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens less likely than min-p times the most likely one; 0 turns it off.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Divides positive (multiplies negative) logits of tokens in the recent window; 1 turns it off.</summary>
    public float RepeatPenalty { get; init; } = 1.0f;

    /// <summary>Subtracted from a token's logit once per occurrence in the recent window.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Subtracted from a token's logit if it occurs at all in the recent window.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>How many recent tokens the penalties look at; 0 turns them off.</summary>
    public int PenaltyWindow { get; init; } = 64;

    /// <summary>The random seed; null draws one (reported by <see cref="Sampler.Seed"/>).</summary>
    public ulong? Seed { get; init; }

    /// <summary>Always the most likely token (no randomness, no truncation).</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0, TopK = 0, TopP = 1, MinP = 0 };

    public bool IsGreedy => Temperature <= 0;

    internal bool HasPenalties => PenaltyWindow > 0 && (RepeatPenalty != 1 || FrequencyPenalty != 0 || PresencePenalty != 0);

    /// <summary>Rejects values that cannot mean anything (NaN, negative, p outside [0, 1]).</summary>
    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Check(float.IsFinite(Temperature), $"temperature must be a number (got {Temperature})");
        Check(TopK >= 0, $"top_k must be 0 (off) or positive (got {TopK})");
        Check(TopP is >= 0 and <= 1, $"top_p must be between 0 and 1 (got {TopP})");
        Check(MinP is >= 0 and <= 1, $"min_p must be between 0 and 1 (got {MinP})");
        Check(float.IsFinite(RepeatPenalty) && RepeatPenalty > 0, $"repeat_penalty must be positive (got {RepeatPenalty})");
        Check(float.IsFinite(FrequencyPenalty), $"frequency_penalty must be a number (got {FrequencyPenalty})");
        Check(float.IsFinite(PresencePenalty), $"presence_penalty must be a number (got {PresencePenalty})");
        Check(PenaltyWindow >= 0, $"the penalty window must be 0 (off) or positive (got {PenaltyWindow})");
    }
}

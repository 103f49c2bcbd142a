using Promptd.Core.Moderation;

namespace Promptd.Storage.Sqlite;

/// <summary>A moderation policy in its wire form for JSON columns: a threshold and per-category overrides (low|medium|high|off).</summary>
internal static class ModerationPolicyCodec
{
    public static (string Threshold, Dictionary<string, string?>? Categories) Encode(ModerationPolicy policy)
    {
        Dictionary<string, string?>? categories = null;
        foreach (var (category, threshold) in policy.CategoryThresholds)
        {
            (categories ??= [])[category.ToWire()] = ModerationPolicy.ThresholdToWire(threshold);
        }
        return (ModerationPolicy.ThresholdToWire(policy.Threshold), categories);
    }

    public static ModerationPolicy Decode(string threshold, Dictionary<string, string?>? categories) => ModerationPolicy.FromWire(threshold, categories);
}

namespace Promptd.Core.Moderation;

/// <summary>What a piece of text is flagged for. Wire names: <c>hate</c>, <c>sexual</c>, <c>violence</c>, <c>self_harm</c>.</summary>
public enum ModerationCategory
{
    Hate,
    Sexual,
    Violence,
    SelfHarm,
}

/// <summary>How strongly. Ordered: a threshold filters every severity at or above it. Wire names: <c>safe|low|medium|high</c>.</summary>
public enum Severity
{
    Safe,
    Low,
    Medium,
    High,
}

/// <summary>The wire spellings of categories and severities, one place for every dialect.</summary>
public static class ModerationNames
{
    /// <summary>Every category, in the order results are reported.</summary>
    public static readonly IReadOnlyList<ModerationCategory> Categories =
        [ModerationCategory.Hate, ModerationCategory.Sexual, ModerationCategory.Violence, ModerationCategory.SelfHarm];

    public static string ToWire(this ModerationCategory category) => category switch
    {
        ModerationCategory.Hate => "hate",
        ModerationCategory.Sexual => "sexual",
        ModerationCategory.Violence => "violence",
        ModerationCategory.SelfHarm => "self_harm",
        _ => throw new ArgumentOutOfRangeException(nameof(category)),
    };

    public static string ToWire(this Severity severity) => severity switch
    {
        Severity.Safe => "safe",
        Severity.Low => "low",
        Severity.Medium => "medium",
        Severity.High => "high",
        _ => throw new ArgumentOutOfRangeException(nameof(severity)),
    };

    public static bool TryParseCategory(string? text, out ModerationCategory category)
    {
        foreach (var c in Categories)
        {
            if (string.Equals(text, c.ToWire(), StringComparison.OrdinalIgnoreCase))
            {
                category = c;
                return true;
            }
        }
        category = default;
        return false;
    }

    public static bool TryParseSeverity(string? text, out Severity severity)
    {
        for (var s = Severity.Safe; s <= Severity.High; s++)
        {
            if (string.Equals(text, s.ToWire(), StringComparison.OrdinalIgnoreCase))
            {
                severity = s;
                return true;
            }
        }
        severity = default;
        return false;
    }
}

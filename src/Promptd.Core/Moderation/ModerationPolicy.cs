namespace Promptd.Core.Moderation;

/// <summary>Bad moderation settings in a template version; the message is safe to show (a 400).</summary>
public sealed class ModerationPolicyException(string message) : ArgumentException(message);

/// <summary>
/// When moderation stops a run: a category is <c>filtered</c> when its severity is at or above its
/// threshold. Each category uses its own threshold when one is set, else the global one; a null
/// threshold ("off") never filters (results are still reported). <c>safe</c> is not a threshold,
/// since it would filter every text.
/// </summary>
public sealed class ModerationPolicy
{
    /// <summary>Filters medium and high in every category (the common default of hosted moderation).</summary>
    public static ModerationPolicy Default { get; } = new(Severity.Medium);

    /// <summary>Reports but never filters.</summary>
    public static ModerationPolicy Off { get; } = new(null);

    private readonly Severity?[] _thresholds = new Severity?[ModerationNames.Categories.Count];

    public ModerationPolicy(Severity? threshold, IReadOnlyDictionary<ModerationCategory, Severity?>? categoryThresholds = null)
    {
        Validate(threshold, "threshold");
        Threshold = threshold;
        var overrides = new Dictionary<ModerationCategory, Severity?>();
        foreach (var category in ModerationNames.Categories) _thresholds[(int)category] = threshold;
        if (categoryThresholds is not null)
        {
            foreach (var (category, categoryThreshold) in categoryThresholds)
            {
                if ((uint)category >= (uint)_thresholds.Length) throw new ModerationPolicyException($"unknown moderation category {(int)category}");
                Validate(categoryThreshold, category.ToWire());
                overrides[category] = categoryThreshold;
                _thresholds[(int)category] = categoryThreshold;
            }
        }
        CategoryThresholds = overrides.AsReadOnly();
    }

    /// <summary>The global threshold; null is off.</summary>
    public Severity? Threshold { get; }

    /// <summary>Per-category overrides of <see cref="Threshold"/> (a null value turns that category off).</summary>
    public IReadOnlyDictionary<ModerationCategory, Severity?> CategoryThresholds { get; }

    public Severity? ThresholdFor(ModerationCategory category) => _thresholds[(int)category];

    public bool IsFiltered(ModerationCategory category, Severity severity) =>
        severity != Severity.Safe && _thresholds[(int)category] is { } t && severity >= t;

    /// <summary>
    /// Builds a policy from its wire form: <paramref name="threshold"/> and each value of
    /// <paramref name="categories"/> are <c>low</c>, <c>medium</c>, <c>high</c> or <c>off</c>; a null
    /// global threshold means <see cref="Default"/>'s. Throws <see cref="ModerationPolicyException"/>.
    /// </summary>
    public static ModerationPolicy FromWire(string? threshold, IReadOnlyDictionary<string, string?>? categories = null)
    {
        var global = threshold is null ? Default.Threshold : ParseThreshold(threshold, "threshold");
        Dictionary<ModerationCategory, Severity?>? overrides = null;
        if (categories is not null)
        {
            overrides = [];
            foreach (var (name, value) in categories)
            {
                if (!ModerationNames.TryParseCategory(name, out var category))
                {
                    throw new ModerationPolicyException($"unknown moderation category '{name}' (expected hate, sexual, violence or self_harm)");
                }
                overrides[category] = value is null ? null : ParseThreshold(value, name);
            }
        }
        return new ModerationPolicy(global, overrides);
    }

    /// <summary>The wire form of a threshold: <c>low|medium|high|off</c>.</summary>
    public static string ThresholdToWire(Severity? threshold) => threshold is { } t ? t.ToWire() : "off";

    private static Severity? ParseThreshold(string text, string what)
    {
        if (string.Equals(text, "off", StringComparison.OrdinalIgnoreCase)) return null;
        if (ModerationNames.TryParseSeverity(text, out var severity))
        {
            Validate(severity, what);
            return severity;
        }
        throw new ModerationPolicyException($"moderation {what} must be low, medium, high or off (got '{text}')");
    }

    private static void Validate(Severity? threshold, string what)
    {
        if (threshold is null) return;
        if (threshold is Severity.Safe) throw new ModerationPolicyException($"moderation {what} cannot be 'safe': it would filter every text");
        if (threshold is < Severity.Safe or > Severity.High) throw new ModerationPolicyException($"moderation {what} is not a severity");
    }
}

namespace Promptd.Core.Moderation;

/// <summary>
/// One piece of evidence: the text at [<see cref="Start"/>, <see cref="Start"/>+<see cref="Length"/>)
/// (UTF-16 offsets into the classified text) matched <see cref="Rule"/>.
/// </summary>
public sealed record ModerationMatch(ModerationCategory Category, Severity Severity, int Start, int Length, string Rule)
{
    public int End => Start + Length;
}

/// <summary>One category's result in the wire shape: <c>{category, filtered, severity}</c>.</summary>
public readonly record struct CategoryResult(ModerationCategory Category, Severity Severity, bool Filtered);

/// <summary>
/// A classifier's answer for one text: a severity per category (the strongest evidence found) and
/// the evidence itself, so a reviewer can see why.
/// </summary>
public sealed class ModerationVerdict
{
    public static ModerationVerdict Safe { get; } = new([]);

    private readonly Severity[] _severities = new Severity[ModerationNames.Categories.Count];

    /// <param name="matches">The evidence.</param>
    /// <param name="unsettledFrom">See <see cref="UnsettledFrom"/>.</param>
    public ModerationVerdict(IReadOnlyList<ModerationMatch> matches, int? unsettledFrom = null)
    {
        Matches = matches;
        UnsettledFrom = unsettledFrom;
        foreach (var m in matches)
        {
            if (m.Severity > _severities[(int)m.Category]) _severities[(int)m.Category] = m.Severity;
        }
    }

    /// <summary>Verdict from severities alone, for classifiers (e.g. model-based) that give no spans.</summary>
    public ModerationVerdict(IReadOnlyDictionary<ModerationCategory, Severity> severities)
    {
        Matches = [];
        foreach (var (category, severity) in severities) _severities[(int)category] = severity;
    }

    /// <summary>The evidence, in text order. May be empty even when a severity is set (see the other constructor).</summary>
    public IReadOnlyList<ModerationMatch> Matches { get; }

    /// <summary>
    /// If the text continued, what could change: matches starting at or after this offset (and any new
    /// ones) are not final yet — a phrase may still grow ("kill" → "kill you") or a benign context
    /// complete ("murder" → "murder a pizza"). Null when more text could change nothing found so far.
    /// <see cref="StreamingOutputModerator"/> releases text only up to here.
    /// </summary>
    public int? UnsettledFrom { get; }

    public Severity SeverityOf(ModerationCategory category) => _severities[(int)category];

    /// <summary>The highest severity over all categories.</summary>
    public Severity MaxSeverity
    {
        get
        {
            var max = Severity.Safe;
            foreach (var s in _severities) if (s > max) max = s;
            return max;
        }
    }

    public bool IsFiltered(ModerationPolicy policy)
    {
        foreach (var category in ModerationNames.Categories)
        {
            if (policy.IsFiltered(category, _severities[(int)category])) return true;
        }
        return false;
    }

    /// <summary>All four categories in wire order, with <c>filtered</c> decided by <paramref name="policy"/>.</summary>
    public IReadOnlyList<CategoryResult> ToCategoryResults(ModerationPolicy policy)
    {
        var results = new CategoryResult[ModerationNames.Categories.Count];
        foreach (var category in ModerationNames.Categories)
        {
            var severity = _severities[(int)category];
            results[(int)category] = new CategoryResult(category, severity, policy.IsFiltered(category, severity));
        }
        return results;
    }

    /// <summary>The per-category maximum of several verdicts (e.g. the input's messages, or a stream's windows).</summary>
    public static ModerationVerdict Combine(IEnumerable<ModerationVerdict> verdicts)
    {
        var matches = new List<ModerationMatch>();
        var severities = new Severity[ModerationNames.Categories.Count];
        foreach (var v in verdicts)
        {
            matches.AddRange(v.Matches);
            for (var i = 0; i < severities.Length; i++)
            {
                if (v._severities[i] > severities[i]) severities[i] = v._severities[i];
            }
        }
        return new ModerationVerdict(matches, severities);
    }

    private ModerationVerdict(IReadOnlyList<ModerationMatch> matches, Severity[] severities)
    {
        Matches = matches;
        _severities = severities;
    }
}

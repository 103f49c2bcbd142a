using System.Text;

namespace Promptd.Core.Moderation;

/// <summary>What to do after a piece of streamed output: send <see cref="Release"/>; if <see cref="Stopped"/>, end the stream.</summary>
public readonly record struct ModerationStep(string Release, bool Stopped);

/// <summary>
/// Moderates an answer while it streams. Text goes in piece by piece (<see cref="PushAsync"/>); what
/// comes out is the text that is safe to send so far. Text is held back while its verdict is open:
/// the word being written (a word may be split across pieces, "ki" + "ll"; a word ends at whitespace
/// or at a Chinese or Japanese character, see <see cref="Promptd.Core.Text.Scripts"/>), and whatever the
/// classifier marks unsettled (<see cref="ModerationVerdict.UnsettledFrom"/>: a phrase that may still
/// grow, "kill" + " you", or a benign context that may still complete, "murder" + " a pizza"). As soon
/// as a match at or above the policy's threshold is certain, the text before it is released, the step
/// says <see cref="ModerationStep.Stopped"/>, and nothing from the match on is ever released;
/// <see cref="CutOffset"/> says where the stream stopped. Call <see cref="CompleteAsync"/> when the
/// engine finishes to release (or stop) the rest.
/// <para>
/// Each check classifies only the text not yet released, so the cost per piece does not grow with the
/// answer, and only when a new word has been completed. One instance per stream; not thread-safe.
/// </para>
/// </summary>
public sealed class StreamingOutputModerator(IModerationClassifier classifier, ModerationPolicy policy)
{
    private readonly StringBuilder _text = new();
    private readonly List<ModerationMatch> _evidence = [];
    private readonly Severity[] _spanless = new Severity[ModerationNames.Categories.Count];
    private int _scanned;
    private int _completeEnd;
    private int _checkedEnd;
    private bool _completed;

    /// <summary>True once the output was filtered; nothing more will be released.</summary>
    public bool Stopped { get; private set; }

    /// <summary>When <see cref="Stopped"/>: the offset in the whole output where the stream stopped (the start of the flagged text).</summary>
    public int? CutOffset { get; private set; }

    /// <summary>How much of the output has been released.</summary>
    public int ReleasedLength { get; private set; }

    /// <summary>Everything pushed so far, released or not (for the run record).</summary>
    public string Text => _text.ToString();

    /// <summary>The output's moderation result so far: every decided match, with offsets into the whole output.</summary>
    public ModerationVerdict Verdict
    {
        get
        {
            var spanless = new Dictionary<ModerationCategory, Severity>();
            foreach (var c in ModerationNames.Categories) spanless[c] = _spanless[(int)c];
            return ModerationVerdict.Combine([new ModerationVerdict(_evidence), new ModerationVerdict(spanless)]);
        }
    }

    public async ValueTask<ModerationStep> PushAsync(string piece, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(piece);
        if (_completed) throw new InvalidOperationException("the stream was already completed");
        if (Stopped) return new ModerationStep("", true);
        _text.Append(piece);
        ScanForWhitespace();
        if (_completeEnd == _checkedEnd) return new ModerationStep("", false);
        return await DecideAsync(_completeEnd, final: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The engine finished: decide everything left and release it (or stop).</summary>
    public async ValueTask<ModerationStep> CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_completed) throw new InvalidOperationException("the stream was already completed");
        _completed = true;
        if (Stopped) return new ModerationStep("", true);
        return await DecideAsync(_text.Length, final: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves <see cref="_completeEnd"/> past the last word boundary: whitespace, or a character of a
    /// script written without spaces (Chinese, Japanese), which no classifier's word can contain.
    /// </summary>
    private void ScanForWhitespace()
    {
        for (var i = _scanned; i < _text.Length; i++)
        {
            var c = _text[i];
            if (char.IsWhiteSpace(c) || Promptd.Core.Text.Scripts.IsWrittenWithoutSpaces(c)) _completeEnd = i + 1;
        }
        _scanned = _text.Length;
    }

    private async ValueTask<ModerationStep> DecideAsync(int end, bool final, CancellationToken cancellationToken)
    {
        _checkedEnd = end;
        var windowStart = ReleasedLength;
        if (end <= windowStart) return new ModerationStep("", false);
        var verdict = await classifier.ClassifyAsync(_text.ToString(windowStart, end - windowStart), cancellationToken).ConfigureAwait(false);

        // Everything before `settled` is final: its matches are decided and, if none is filtered, it can go out.
        var settled = final || verdict.UnsettledFrom is not { } open ? end : windowStart + Math.Clamp(open, 0, end - windowStart);
        var flaggedAt = int.MaxValue;
        foreach (var m in verdict.Matches)
        {
            var start = windowStart + m.Start;
            if (start >= settled) continue; // seen again, with more context, next time
            _evidence.Add(m with { Start = start });
            if (policy.IsFiltered(m.Category, m.Severity)) flaggedAt = Math.Min(flaggedAt, start);
        }
        if (verdict.Matches.Count == 0)
        {
            // A classifier that gives no spans (a model scoring the window): its word on the window is final.
            foreach (var category in ModerationNames.Categories)
            {
                var severity = verdict.SeverityOf(category);
                if (severity > _spanless[(int)category]) _spanless[(int)category] = severity;
                if (policy.IsFiltered(category, severity)) flaggedAt = windowStart;
            }
        }

        if (flaggedAt != int.MaxValue)
        {
            var beforeMatch = Release(flaggedAt);
            Stopped = true;
            CutOffset = ReleasedLength;
            return new ModerationStep(beforeMatch, true);
        }
        return new ModerationStep(Release(settled), false);
    }

    private string Release(int upTo)
    {
        if (upTo <= ReleasedLength) return "";
        var text = _text.ToString(ReleasedLength, upTo - ReleasedLength);
        ReleasedLength = upTo;
        return text;
    }
}

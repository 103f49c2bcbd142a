using System.Text;
using Promptd.Core.Moderation;
using Promptd.Core.Runs;

namespace Promptd.Core.Scheduling;

/// <summary>
/// Moderation of one attempt of a moderated run (<see cref="RunInput.Moderation"/>): the caller's input
/// is classified before the model is called; the output goes through a
/// <see cref="StreamingOutputModerator"/>, which holds back the word being written and stops the
/// stream before a filtered match. A policy that filters nothing ("off") needs no hold-back: its
/// output streams as it comes and is classified once at the end, for the report.
/// </summary>
internal sealed class AttemptModeration
{
    private readonly IModerationClassifier _classifier;
    private readonly RunModeration _settings;
    private readonly StreamingOutputModerator? _streaming;
    private readonly StringBuilder? _unmoderated;
    private ModerationVerdict _input = ModerationVerdict.Safe;

    private AttemptModeration(IModerationClassifier classifier, RunModeration settings)
    {
        _classifier = classifier;
        _settings = settings;
        if (FiltersAnything(settings.Policy)) _streaming = new StreamingOutputModerator(classifier, settings.Policy);
        else _unmoderated = new StringBuilder();
    }

    /// <summary>Null when the run is not moderated.</summary>
    public static AttemptModeration? For(RunInput input, IModerationClassifier classifier) =>
        input.Moderation is { } settings ? new AttemptModeration(classifier, settings) : null;

    /// <summary>Classifies each input text on its own (so values never run into each other); true when the input is filtered.</summary>
    public async ValueTask<bool> InputFilteredAsync(CancellationToken cancellationToken)
    {
        var verdicts = new List<ModerationVerdict>(_settings.Input.Count);
        foreach (var text in _settings.Input) verdicts.Add(await _classifier.ClassifyAsync(text, cancellationToken));
        _input = ModerationVerdict.Combine(verdicts);
        return _input.IsFiltered(_settings.Policy);
    }

    /// <summary>A piece of output: what may be sent now, and whether the stream must stop here.</summary>
    public ValueTask<ModerationStep> PushAsync(string piece, CancellationToken cancellationToken)
    {
        if (_streaming is not null) return _streaming.PushAsync(piece, cancellationToken);
        _unmoderated!.Append(piece);
        return ValueTask.FromResult(new ModerationStep(piece, false));
    }

    /// <summary>The engine finished: the rest of the output that may be sent (or a stop).</summary>
    public ValueTask<ModerationStep> CompleteAsync(CancellationToken cancellationToken) =>
        _streaming is not null ? _streaming.CompleteAsync(cancellationToken) : ValueTask.FromResult(new ModerationStep("", false));

    /// <summary>Every category, for input and output together (the stronger of the two), as the policy filters them.</summary>
    public async ValueTask<IReadOnlyList<CategoryResult>> ResultsAsync(CancellationToken cancellationToken)
    {
        var output = _streaming is not null
            ? _streaming.Verdict
            : _unmoderated!.Length > 0 ? await _classifier.ClassifyAsync(_unmoderated.ToString(), cancellationToken) : ModerationVerdict.Safe;
        return ModerationVerdict.Combine([_input, output]).ToCategoryResults(_settings.Policy);
    }

    private static bool FiltersAnything(ModerationPolicy policy)
    {
        foreach (var category in ModerationNames.Categories)
        {
            if (policy.ThresholdFor(category) is not null) return true;
        }
        return false;
    }
}

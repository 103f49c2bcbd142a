using Promptd.Core.Knowledge.Retrieval;
using Promptd.Core.Runs;

namespace Promptd.Core.TemplateRuns;

/// <summary>
/// What a run of a template version records besides the run itself: which version ran, the
/// replacements as given (and those no message used), the id of the answer message, whether it was
/// started in the background, and the citations placed into its context.
/// </summary>
public sealed record TemplateRunDetails
{
    public required Guid TemplateId { get; init; }
    public required Guid VersionId { get; init; }
    public required int VersionNumber { get; init; }
    public required Guid MessageId { get; init; }
    /// <summary>A background run keeps going when its client disconnects; a foreground run is canceled then.</summary>
    public bool Background { get; init; }
    public IReadOnlyDictionary<string, string> Replacements { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> UnusedReplacements { get; init; } = [];
    public IReadOnlyList<Citation> Citations { get; init; } = [];
}

/// <summary>
/// A template run as read back: the run (status, model, input as sent, answer, tokens), its details,
/// and its Completed event when it has one (usage with timings, moderation results).
/// </summary>
public sealed record TemplateRun(Run Run, TemplateRunDetails Details, RunEvent? Completed);

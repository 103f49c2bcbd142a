namespace Promptd.Core.Templates;

/// <summary>
/// A stored template (Hyperleap's "prompt"): named and owned, with numbered immutable versions, one
/// default version (what a run without a version uses) and movable labels naming versions
/// (<c>production</c>, <c>staging</c>…), so a rollback is moving a label.
/// </summary>
public sealed record TemplateRecord
{
    public required Guid Id { get; init; }
    public required string UserId { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required Guid DefaultVersionId { get; init; }
    /// <summary>Versions created so far; the newest has this number.</summary>
    public int VersionCount { get; init; }
    /// <summary>Label → version id.</summary>
    public IReadOnlyDictionary<string, Guid> Labels { get; init; } = new Dictionary<string, Guid>();
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The labels naming <paramref name="versionId"/>, sorted.</summary>
    public IReadOnlyList<string> LabelsOf(Guid versionId)
    {
        var labels = new List<string>();
        foreach (var (label, id) in Labels)
        {
            if (id == versionId) labels.Add(label);
        }
        labels.Sort(StringComparer.Ordinal);
        return labels;
    }
}

/// <summary>One immutable version of a template; <see cref="Number"/> counts from 1 within the template.</summary>
public sealed record TemplateVersion
{
    public required Guid Id { get; init; }
    public required Guid TemplateId { get; init; }
    public required int Number { get; init; }
    public required TemplateVersionContent Content { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

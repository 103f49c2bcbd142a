namespace Promptd.Core.Knowledge;

/// <summary>A named, owned collection of documents that template versions search for citations.</summary>
public sealed record KnowledgeBase
{
    public required Guid Id { get; init; }
    public required string UserId { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    /// <summary>Documents it holds now (computed when read).</summary>
    public int DocumentCount { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

namespace Promptd.Core.Knowledge;

/// <summary>
/// What is known about an uploaded document besides its text; these are the fields a citation
/// carries (<c>documentId</c>, <c>fileId</c>, <c>sourceName</c>, <c>sourceUrl</c>,
/// <c>sourceContentType</c>, <c>lastUpdate</c>, <c>tags</c>). <see cref="ContentType"/> is the media
/// type alone (<c>text/markdown</c>), as <see cref="DocumentContentType.MediaType"/> gives it.
/// </summary>
public sealed record DocumentInfo
{
    public required Guid KnowledgeBaseId { get; init; }
    public required Guid DocumentId { get; init; }
    public required string FileId { get; init; }
    public required string SourceName { get; init; }
    public string? SourceUrl { get; init; }
    public required string ContentType { get; init; }
    public required DateTimeOffset LastUpdate { get; init; }
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Tags { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
}

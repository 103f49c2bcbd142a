using Promptd.Core.Knowledge.Analysis;
using Promptd.Core.Storage;
using Promptd.Core.Users;

namespace Promptd.Core.Knowledge;

/// <summary>An uploaded document and what the client said about it; null members take defaults.</summary>
public sealed record DocumentUpload
{
    /// <summary>Null: a new document. Set: replaces the document with this id (or creates it).</summary>
    public Guid? DocumentId { get; init; }
    /// <summary>Null: the source name.</summary>
    public string? FileId { get; init; }
    public required string SourceName { get; init; }
    public string? SourceUrl { get; init; }
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Tags { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
    /// <summary>The request's Content-Type (text/plain, text/markdown, text/html, with an optional charset).</summary>
    public required string ContentType { get; init; }
    public required ReadOnlyMemory<byte> Content { get; init; }
}

/// <summary>
/// Knowledge bases and their documents. An upload is decoded, split into partitions and indexed in
/// one transaction (replacing an earlier version of the same document id); a deleted document is gone
/// from the next retrieval. Users see only their own knowledge bases; admins see all.
/// </summary>
public sealed class KnowledgeBaseService(IPromptdStorage storage, TimeProvider time)
{
    public const int MaxNameChars = 200;
    public const int MaxTags = 32;
    public const int MaxTagValues = 16;
    public const int MaxTagChars = 256;

    private readonly KnowledgeIndexer _indexer = new(storage.KnowledgeIndex, TextAnalyzer.English);

    public async Task<KnowledgeBase> CreateAsync(string name, string? description, Caller caller, CancellationToken cancellationToken)
    {
        var kb = new KnowledgeBase
        {
            Id = Guid.CreateVersion7(), UserId = caller.UserId, Name = Text(name, "name", MaxNameChars, required: true)!,
            Description = Text(description, "description", 2_000, required: false), CreatedAt = Timestamps.Truncate(time.GetUtcNow()),
        };
        await storage.KnowledgeBases.CreateAsync(kb, cancellationToken);
        return kb;
    }

    public async Task<KnowledgeBase> GetAsync(Guid id, Caller caller, CancellationToken cancellationToken)
    {
        var kb = await storage.KnowledgeBases.GetAsync(id, cancellationToken);
        if (kb is null || !caller.CanSee(kb.UserId)) throw DomainException.NotFound($"knowledge base '{id}' not found");
        return kb;
    }

    public Task<IReadOnlyList<KnowledgeBase>> ListAsync(Caller caller, CancellationToken cancellationToken) =>
        storage.KnowledgeBases.ListAsync(caller.OwnerFilter, 1000, cancellationToken);

    public async Task DeleteAsync(Guid id, Caller caller, CancellationToken cancellationToken)
    {
        await GetAsync(id, caller, cancellationToken);
        if (!await storage.KnowledgeBases.DeleteAsync(id, cancellationToken)) throw DomainException.NotFound($"knowledge base '{id}' not found");
    }

    /// <summary>
    /// Indexes an upload. <see cref="UnsupportedContentTypeException"/> (415) for a type or charset
    /// Promptd cannot read, <see cref="InvalidDocumentException"/> (400) for bytes that are not text.
    /// </summary>
    public async Task<IndexingResult> UploadAsync(Guid knowledgeBaseId, DocumentUpload upload, Caller caller, CancellationToken cancellationToken)
    {
        await GetAsync(knowledgeBaseId, caller, cancellationToken);
        var name = Text(upload.SourceName, "name", 256, required: true)!;
        var info = new DocumentInfo
        {
            KnowledgeBaseId = knowledgeBaseId,
            DocumentId = upload.DocumentId ?? Guid.CreateVersion7(),
            FileId = Text(upload.FileId, "fileId", 256, required: false) ?? name,
            SourceName = name,
            SourceUrl = ValidateUrl(upload.SourceUrl),
            ContentType = upload.ContentType,
            LastUpdate = Timestamps.Truncate(time.GetUtcNow()),
            Tags = ValidateTags(upload.Tags),
        };
        return await _indexer.IndexAsync(info, upload.ContentType, upload.Content, cancellationToken);
    }

    public async Task<(KnowledgeBase KnowledgeBase, IReadOnlyList<DocumentInfo> Documents)> ListDocumentsAsync(
        Guid knowledgeBaseId, Caller caller, CancellationToken cancellationToken)
    {
        var kb = await GetAsync(knowledgeBaseId, caller, cancellationToken);
        return (kb, await storage.KnowledgeIndex.ListDocumentsAsync(knowledgeBaseId, cancellationToken));
    }

    public async Task DeleteDocumentAsync(Guid knowledgeBaseId, Guid documentId, Caller caller, CancellationToken cancellationToken)
    {
        await GetAsync(knowledgeBaseId, caller, cancellationToken);
        if (!await storage.KnowledgeIndex.DeleteDocumentAsync(knowledgeBaseId, documentId, cancellationToken))
            throw DomainException.NotFound($"document '{documentId}' not found");
    }

    private static string? Text(string? value, string what, int max, bool required)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            if (required) throw DomainException.Invalid($"{what} must not be empty");
            return null;
        }
        if (trimmed.Length > max) throw DomainException.Invalid($"{what} is longer than {max} characters");
        return trimmed;
    }

    private static string? ValidateUrl(string? url)
    {
        if (string.IsNullOrEmpty(url)) return null;
        if (url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw DomainException.Invalid("sourceUrl must be an absolute http or https URL of at most 2048 characters");
        return url;
    }

    private static IReadOnlyDictionary<string, IReadOnlyList<string>> ValidateTags(IReadOnlyDictionary<string, IReadOnlyList<string>> tags)
    {
        if (tags.Count > MaxTags) throw DomainException.Invalid($"a document has at most {MaxTags} tags");
        foreach (var (key, values) in tags)
        {
            if (key.Length is 0 or > 64) throw DomainException.Invalid("tag names must be 1-64 characters");
            if (values.Count > MaxTagValues) throw DomainException.Invalid($"a tag has at most {MaxTagValues} values");
            foreach (var v in values)
            {
                if (v.Length > MaxTagChars) throw DomainException.Invalid($"tag values are at most {MaxTagChars} characters");
            }
        }
        return tags;
    }
}

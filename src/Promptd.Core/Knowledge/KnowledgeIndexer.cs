using Promptd.Core.Knowledge.Analysis;
using Promptd.Core.Knowledge.Extraction;
using Promptd.Core.Knowledge.Index;
using Promptd.Core.Knowledge.Partitioning;

namespace Promptd.Core.Knowledge;

/// <summary>What indexing a document produced.</summary>
public sealed record IndexingResult(DocumentInfo Document, string? Title, int SectionCount, IReadOnlyList<DocumentPartition> Partitions);

/// <summary>
/// The upload pipeline: content type → text → sections → partitions → terms → store. Re-indexing a
/// document id replaces the earlier version atomically.
/// </summary>
public sealed class KnowledgeIndexer(IKnowledgeIndexStore store, TextAnalyzer analyzer, PartitioningOptions? options = null)
{
    private readonly PartitioningOptions _options = options ?? new PartitioningOptions();

    /// <summary>
    /// Indexes an upload. <paramref name="contentType"/> is the request's <c>Content-Type</c>; throws
    /// <see cref="UnsupportedContentTypeException"/> (415) for other types or charsets and
    /// <see cref="InvalidDocumentException"/> (400) for bytes that are not text in that charset or hold no text.
    /// The stored <see cref="DocumentInfo.ContentType"/> is the parsed media type.
    /// </summary>
    public Task<IndexingResult> IndexAsync(DocumentInfo info, string contentType, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var type = DocumentContentType.Parse(contentType);
        var text = DocumentDecoder.Decode(content.Span, type);
        return IndexTextAsync(info with { ContentType = type.MediaType }, type.Format, text, cancellationToken);
    }

    /// <summary>Indexes text already decoded.</summary>
    public async Task<IndexingResult> IndexTextAsync(DocumentInfo info, DocumentFormat format, string text, CancellationToken cancellationToken = default)
    {
        var extracted = TextExtractor.Extract(text, format);
        var partitions = Partitioner.Partition(extracted, _options);
        if (partitions.Count == 0) throw new InvalidDocumentException("the document contains no text");

        var indexed = new List<IndexedPartition>(partitions.Count);
        foreach (var p in partitions)
        {
            // The heading path is indexed with every partition of its section: "Install > Linux" is what those words are about.
            var frequencies = analyzer.TermFrequencies(p.Heading is null ? p.Text : p.Heading + "\n" + p.Text, out var length);
            indexed.Add(new IndexedPartition(p.SectionNumber, p.PartitionNumber, p.Heading, p.Text, length, frequencies));
        }
        await store.UpsertDocumentAsync(new IndexedDocument(info, indexed), cancellationToken).ConfigureAwait(false);
        return new IndexingResult(info, extracted.Title, partitions[^1].SectionNumber, partitions);
    }
}

namespace Promptd.Core.Knowledge.Index;

/// <summary>
/// Where the inverted index lives. The shape is that of three tables, so a database-backed store is a
/// direct translation (docs/knowledge.md gives the SQL):
/// <list type="bullet">
/// <item>documents (knowledge base, document id, metadata),</item>
/// <item>partitions (partition id, knowledge base, document, section and partition numbers, heading,
/// text, length in terms),</item>
/// <item>postings (term, partition id, term frequency).</item>
/// </list>
/// Document frequency is the number of postings of a term within the searched knowledge bases; the
/// collection size and total length come from the partitions. Every write is atomic: a reader sees a
/// document wholly or not at all, and a deleted document is gone from the next read.
/// </summary>
public interface IKnowledgeIndexStore
{
    /// <summary>Adds a document, replacing any earlier version with the same knowledge base and document id.</summary>
    Task UpsertDocumentAsync(IndexedDocument document, CancellationToken cancellationToken = default);

    /// <summary>Removes a document with its partitions and postings; false if there was none.</summary>
    Task<bool> DeleteDocumentAsync(Guid knowledgeBaseId, Guid documentId, CancellationToken cancellationToken = default);

    /// <summary>Removes every document of a knowledge base; returns how many.</summary>
    Task<int> DeleteKnowledgeBaseAsync(Guid knowledgeBaseId, CancellationToken cancellationToken = default);

    /// <summary>The documents of a knowledge base, ordered by document id.</summary>
    Task<IReadOnlyList<DocumentInfo>> ListDocumentsAsync(Guid knowledgeBaseId, CancellationToken cancellationToken = default);

    /// <summary>Number of partitions and sum of their lengths over the given knowledge bases.</summary>
    Task<CorpusStatistics> GetStatisticsAsync(IReadOnlyCollection<Guid> knowledgeBaseIds, CancellationToken cancellationToken = default);

    /// <summary>Every posting of the given terms within the given knowledge bases, with each partition's length.</summary>
    Task<IReadOnlyList<Posting>> GetPostingsAsync(IReadOnlyCollection<Guid> knowledgeBaseIds, IReadOnlyCollection<string> terms, CancellationToken cancellationToken = default);

    /// <summary>The partitions with these ids that still exist (deleted ones are left out), with their documents.</summary>
    Task<IReadOnlyList<StoredPartition>> GetPartitionsAsync(IReadOnlyCollection<long> partitionIds, CancellationToken cancellationToken = default);
}

/// <summary>A document ready to store: its metadata and its analyzed partitions.</summary>
public sealed record IndexedDocument(DocumentInfo Info, IReadOnlyList<IndexedPartition> Partitions);

/// <summary>A partition with its term frequencies and length (number of terms), as the analyzer produced them.</summary>
public sealed record IndexedPartition(int SectionNumber, int PartitionNumber, string? Heading, string Text, int Length, IReadOnlyDictionary<string, int> TermFrequencies);

/// <summary>A partition as stored, with the id the store gave it.</summary>
public sealed record StoredPartition(long PartitionId, DocumentInfo Document, int SectionNumber, int PartitionNumber, string? Heading, string Text);

public readonly record struct CorpusStatistics(long PartitionCount, long TotalLength);

public readonly record struct Posting(string Term, long PartitionId, int TermFrequency, int PartitionLength);

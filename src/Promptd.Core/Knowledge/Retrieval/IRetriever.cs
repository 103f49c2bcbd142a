using Promptd.Core.Knowledge.Index;

namespace Promptd.Core.Knowledge.Retrieval;

/// <summary>Finds the partitions that best answer a query. <see cref="Bm25Retriever"/> is the built-in one; an embedding-based retriever would implement the same.</summary>
public interface IRetriever
{
    /// <summary>Up to <see cref="RetrievalQuery.TopK"/> partitions, most relevant first, relevance in [0, 1].</summary>
    Task<IReadOnlyList<RetrievedPartition>> RetrieveAsync(RetrievalQuery query, CancellationToken cancellationToken = default);
}

/// <summary>What to look for and where.</summary>
public sealed record RetrievalQuery(string Text, IReadOnlyList<Guid> KnowledgeBaseIds)
{
    public const int MaxTopK = 100;

    public int TopK { get; init; } = 5;

    /// <summary>Partitions below this relevance are left out.</summary>
    public double MinRelevance { get; init; }

    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Text);
        ArgumentNullException.ThrowIfNull(KnowledgeBaseIds);
        if (TopK is < 1 or > MaxTopK) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, $"topK must be between 1 and {MaxTopK}");
        if (MinRelevance is < 0 or > 1 || double.IsNaN(MinRelevance)) throw new ArgumentOutOfRangeException(nameof(MinRelevance), MinRelevance, "minRelevance must be between 0 and 1");
    }
}

/// <summary>A retrieved partition with its document and its relevance (in [0, 1]; see the retriever for what it means).</summary>
public sealed record RetrievedPartition(StoredPartition Partition, double Relevance)
{
    public DocumentInfo Document => Partition.Document;
}

namespace Promptd.Core.Knowledge.Retrieval;

/// <summary>One partition of a citation, shaped as the run-sse reference: <c>{text, relevance, partitionNumber, sectionNumber, lastUpdate, tags}</c>.</summary>
public sealed record CitationPartition(
    string Text, double Relevance, int PartitionNumber, int SectionNumber, DateTimeOffset LastUpdate,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Tags);

/// <summary>
/// One cited document, shaped as the run-sse reference: <c>{link, index, documentId, fileId,
/// sourceContentType, sourceName, sourceUrl, partitions[]}</c>. <see cref="Index"/> is the knowledge base
/// id; <see cref="Link"/> is <c>{index}/{documentId}/{fileId}</c>.
/// </summary>
public sealed record Citation(
    string Link, string Index, string DocumentId, string FileId, string SourceContentType, string SourceName, string? SourceUrl,
    IReadOnlyList<CitationPartition> Partitions);

public static class Citations
{
    /// <summary>Groups retrieved partitions by document, documents in order of their best partition, partitions by relevance.</summary>
    public static IReadOnlyList<Citation> FromRetrieved(IReadOnlyList<RetrievedPartition> retrieved)
    {
        var order = new List<(Guid, Guid)>();
        var groups = new Dictionary<(Guid, Guid), List<RetrievedPartition>>();
        foreach (var r in retrieved)
        {
            var key = (r.Document.KnowledgeBaseId, r.Document.DocumentId);
            if (!groups.TryGetValue(key, out var list))
            {
                groups[key] = list = [];
                order.Add(key);
            }
            list.Add(r);
        }
        var citations = new List<Citation>(order.Count);
        foreach (var key in order)
        {
            var parts = groups[key];
            var d = parts[0].Document;
            var index = d.KnowledgeBaseId.ToString();
            var documentId = d.DocumentId.ToString();
            citations.Add(new Citation(
                $"{index}/{documentId}/{d.FileId}", index, documentId, d.FileId, d.ContentType, d.SourceName, d.SourceUrl,
                parts.Select(p => new CitationPartition(p.Partition.Text, p.Relevance, p.Partition.PartitionNumber, p.Partition.SectionNumber, d.LastUpdate, d.Tags)).ToList()));
        }
        return citations;
    }
}

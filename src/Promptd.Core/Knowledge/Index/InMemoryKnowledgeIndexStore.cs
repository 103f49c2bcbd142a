namespace Promptd.Core.Knowledge.Index;

/// <summary>
/// <see cref="IKnowledgeIndexStore"/> in memory, for tests and single-process use. Its fields are the
/// three tables of the interface's description, so each method reads like the SQL it stands for. One
/// lock makes every call atomic; reads are short (postings of a few terms).
/// </summary>
public sealed class InMemoryKnowledgeIndexStore : IKnowledgeIndexStore
{
    private readonly Lock _lock = new();
    // documents: (knowledge base, document) → metadata and the ids of its partitions
    private readonly Dictionary<(Guid, Guid), (DocumentInfo Info, long[] Partitions)> _documents = [];
    // partitions: id → row
    private readonly Dictionary<long, (StoredPartition Row, int Length, string[] Terms)> _partitions = [];
    // postings: term → (partition id → term frequency)
    private readonly Dictionary<string, Dictionary<long, int>> _postings = new(StringComparer.Ordinal);
    // per knowledge base: partition count and total length (what COUNT(*), SUM(length) would compute)
    private readonly Dictionary<Guid, (long Count, long Length)> _statistics = [];
    private long _nextPartitionId = 1;

    public Task UpsertDocumentAsync(IndexedDocument document, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            Remove(document.Info.KnowledgeBaseId, document.Info.DocumentId);
            var ids = new long[document.Partitions.Count];
            for (var i = 0; i < ids.Length; i++)
            {
                var p = document.Partitions[i];
                var id = _nextPartitionId++;
                ids[i] = id;
                _partitions[id] = (new StoredPartition(id, document.Info, p.SectionNumber, p.PartitionNumber, p.Heading, p.Text), p.Length, [.. p.TermFrequencies.Keys]);
                foreach (var (term, frequency) in p.TermFrequencies)
                {
                    if (!_postings.TryGetValue(term, out var list)) _postings[term] = list = [];
                    list[id] = frequency;
                }
            }
            _documents[(document.Info.KnowledgeBaseId, document.Info.DocumentId)] = (document.Info, ids);
            var (count, total) = _statistics.GetValueOrDefault(document.Info.KnowledgeBaseId);
            foreach (var p in document.Partitions) total += p.Length;
            _statistics[document.Info.KnowledgeBaseId] = (count + ids.Length, total);
        }
        return Task.CompletedTask;
    }

    public Task<bool> DeleteDocumentAsync(Guid knowledgeBaseId, Guid documentId, CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult(Remove(knowledgeBaseId, documentId));
    }

    public Task<int> DeleteKnowledgeBaseAsync(Guid knowledgeBaseId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var keys = _documents.Keys.Where(k => k.Item1 == knowledgeBaseId).ToList();
            foreach (var (kb, doc) in keys) Remove(kb, doc);
            return Task.FromResult(keys.Count);
        }
    }

    public Task<IReadOnlyList<DocumentInfo>> ListDocumentsAsync(Guid knowledgeBaseId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            IReadOnlyList<DocumentInfo> list = _documents.Values.Select(d => d.Info).Where(i => i.KnowledgeBaseId == knowledgeBaseId).OrderBy(i => i.DocumentId).ToList();
            return Task.FromResult(list);
        }
    }

    public Task<CorpusStatistics> GetStatisticsAsync(IReadOnlyCollection<Guid> knowledgeBaseIds, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            // SELECT COUNT(*), SUM(length) FROM partitions WHERE knowledge_base_id IN (...)
            long count = 0, total = 0;
            foreach (var kb in knowledgeBaseIds.Distinct())
            {
                var (c, t) = _statistics.GetValueOrDefault(kb);
                count += c;
                total += t;
            }
            return Task.FromResult(new CorpusStatistics(count, total));
        }
    }

    public Task<IReadOnlyList<Posting>> GetPostingsAsync(IReadOnlyCollection<Guid> knowledgeBaseIds, IReadOnlyCollection<string> terms, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            // SELECT term, partition_id, tf, length FROM postings JOIN partitions USING (partition_id)
            //  WHERE term IN (...) AND knowledge_base_id IN (...)
            var scope = knowledgeBaseIds.ToHashSet();
            var result = new List<Posting>();
            foreach (var term in terms)
            {
                if (!_postings.TryGetValue(term, out var list)) continue;
                foreach (var (id, frequency) in list)
                {
                    var (row, length, _) = _partitions[id];
                    if (scope.Contains(row.Document.KnowledgeBaseId)) result.Add(new Posting(term, id, frequency, length));
                }
            }
            return Task.FromResult<IReadOnlyList<Posting>>(result);
        }
    }

    public Task<IReadOnlyList<StoredPartition>> GetPartitionsAsync(IReadOnlyCollection<long> partitionIds, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var result = new List<StoredPartition>(partitionIds.Count);
            foreach (var id in partitionIds)
            {
                if (_partitions.TryGetValue(id, out var p)) result.Add(p.Row);
            }
            return Task.FromResult<IReadOnlyList<StoredPartition>>(result);
        }
    }

    private bool Remove(Guid knowledgeBaseId, Guid documentId)
    {
        if (!_documents.Remove((knowledgeBaseId, documentId), out var document)) return false;
        var (count, total) = _statistics[knowledgeBaseId];
        foreach (var id in document.Partitions)
        {
            total -= _partitions[id].Length;
            // DELETE FROM postings WHERE partition_id = @id; DELETE FROM partitions WHERE id = @id
            foreach (var term in _partitions[id].Terms)
            {
                var list = _postings[term];
                list.Remove(id);
                if (list.Count == 0) _postings.Remove(term);
            }
            _partitions.Remove(id);
        }
        count -= document.Partitions.Length;
        if (count == 0) _statistics.Remove(knowledgeBaseId);
        else _statistics[knowledgeBaseId] = (count, total);
        return true;
    }
}

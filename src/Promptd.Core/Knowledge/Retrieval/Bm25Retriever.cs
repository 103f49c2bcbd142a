using Promptd.Core.Knowledge.Analysis;
using Promptd.Core.Knowledge.Index;

namespace Promptd.Core.Knowledge.Retrieval;

/// <summary>
/// Okapi BM25 over the inverted index: for each query term t present in the searched knowledge bases,
/// <c>idf(t) · tf·(k1+1) / (tf + k1·(1 − b + b·len/avglen))</c>, with
/// <c>idf(t) = ln(1 + (N − df + 0.5)/(df + 0.5))</c> (never negative), k1 = 1.2 and b = 0.75.
/// <para>
/// Relevance is the score divided by the most any partition could score for this query,
/// <c>Σ idf(t)·(k1+1)</c> over the query's terms found in the corpus; so it lies in [0, 1], orders
/// like the score, and reads as "how much of the query's weight this partition carries". A partition
/// holding each query term once, at average length, scores 1/(k1+1) ≈ 0.45; more occurrences and
/// shorter partitions push it towards 1. Query terms found nowhere are left out of both.
/// </para>
/// </summary>
public sealed class Bm25Retriever(IKnowledgeIndexStore store, TextAnalyzer analyzer) : IRetriever
{
    public const double K1 = 1.2;
    public const double B = 0.75;

    public async Task<IReadOnlyList<RetrievedPartition>> RetrieveAsync(RetrievalQuery query, CancellationToken cancellationToken = default)
    {
        query.Validate();
        var terms = analyzer.QueryTerms(query.Text);
        if (terms.Count == 0 || query.KnowledgeBaseIds.Count == 0) return [];

        var statistics = await store.GetStatisticsAsync(query.KnowledgeBaseIds, cancellationToken).ConfigureAwait(false);
        if (statistics.PartitionCount == 0) return [];
        var postings = await store.GetPostingsAsync(query.KnowledgeBaseIds, terms, cancellationToken).ConfigureAwait(false);

        var documentFrequency = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in postings) documentFrequency[p.Term] = documentFrequency.GetValueOrDefault(p.Term) + 1;
        var n = (double)statistics.PartitionCount;
        var averageLength = Math.Max(1.0, statistics.TotalLength / n);
        var idf = new Dictionary<string, double>(StringComparer.Ordinal);
        var maxScore = 0.0;
        foreach (var (term, df) in documentFrequency)
        {
            // df can exceed N for a moment if a document was added between the two reads; clamp.
            var weight = Math.Log(1 + (n - Math.Min(df, n) + 0.5) / (Math.Min(df, n) + 0.5));
            idf[term] = weight;
            maxScore += weight * (K1 + 1);
        }
        if (maxScore <= 0) return [];

        var scores = new Dictionary<long, double>();
        foreach (var p in postings)
        {
            var tf = (double)p.TermFrequency;
            var norm = K1 * (1 - B + B * p.PartitionLength / averageLength);
            scores[p.PartitionId] = scores.GetValueOrDefault(p.PartitionId) + idf[p.Term] * tf * (K1 + 1) / (tf + norm);
        }

        var top = TopK(scores, query.TopK, query.MinRelevance * maxScore);
        var rows = await store.GetPartitionsAsync(top.Select(t => t.Id).ToList(), cancellationToken).ConfigureAwait(false);
        var byId = rows.ToDictionary(r => r.PartitionId);
        var results = new List<RetrievedPartition>(top.Count);
        foreach (var (id, score) in top)
        {
            // A partition deleted since the postings were read is simply gone.
            if (byId.TryGetValue(id, out var row)) results.Add(new RetrievedPartition(row, Math.Clamp(score / maxScore, 0, 1)));
        }
        return results;
    }

    /// <summary>The k best (score descending, then partition id ascending for a stable order), at or above <paramref name="minScore"/>.</summary>
    private static List<(long Id, double Score)> TopK(Dictionary<long, double> scores, int k, double minScore)
    {
        var heap = new PriorityQueue<(long Id, double Score), (double Score, long Id)>(k + 1, WorstFirst.Instance);
        foreach (var (id, score) in scores)
        {
            if (score <= 0 || score < minScore) continue;
            heap.Enqueue((id, score), (score, id));
            if (heap.Count > k) heap.Dequeue();
        }
        var result = new List<(long, double)>(heap.Count);
        while (heap.Count > 0) result.Add(heap.Dequeue());
        result.Reverse();
        return result;
    }

    /// <summary>Orders the heap so the worst candidate (lowest score, then highest id) is dequeued first.</summary>
    private sealed class WorstFirst : IComparer<(double Score, long Id)>
    {
        public static readonly WorstFirst Instance = new();

        public int Compare((double Score, long Id) x, (double Score, long Id) y) =>
            x.Score != y.Score ? x.Score.CompareTo(y.Score) : y.Id.CompareTo(x.Id);
    }
}

using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Promptd.Core;
using Promptd.Core.Knowledge;
using Promptd.Core.Knowledge.Index;

namespace Promptd.Storage.Sqlite;

/// <summary>
/// The inverted index in SQLite: knowledge_documents, knowledge_partitions and knowledge_postings
/// (docs/knowledge.md). Writes go through the one writer, each in its own savepoint, so a reader sees
/// a document wholly or not at all; a deleted document is gone from the next read. Documents are
/// accepted only into a knowledge base that exists, checked in the same transaction.
/// </summary>
internal sealed class SqliteKnowledgeIndexStore(SqliteStorage storage, SqliteWriter writer) : IKnowledgeIndexStore
{
    private const string DocumentColumns = "knowledge_base_id, document_id, file_id, source_name, source_url, content_type, last_update, tags_json";

    private static readonly JsonSerializerOptions Json = new();

    public Task UpsertDocumentAsync(IndexedDocument document, CancellationToken cancellationToken = default) =>
        writer.ExecuteAsync(ctx =>
        {
            var d = document.Info;
            var kb = Text(d.KnowledgeBaseId);
            if (ctx.Command("SELECT 1 FROM knowledge_bases WHERE id = $kb", ("$kb", kb)).ExecuteScalar() is null)
                throw DomainException.NotFound($"knowledge base '{kb}' not found");
            DeleteDocument(ctx, d.KnowledgeBaseId, d.DocumentId);
            ctx.Execute(
                "INSERT INTO knowledge_documents (" + DocumentColumns + ") VALUES ($kb, $doc, $file, $name, $url, $type, $updated, $tags)",
                ("$kb", kb), ("$doc", Text(d.DocumentId)), ("$file", d.FileId), ("$name", d.SourceName), ("$url", d.SourceUrl),
                ("$type", d.ContentType), ("$updated", Timestamps.ToText(d.LastUpdate)), ("$tags", JsonSerializer.Serialize(d.Tags, Json)));
            foreach (var p in document.Partitions)
            {
                var id = (long)ctx.Command(
                    "INSERT INTO knowledge_partitions (knowledge_base_id, document_id, section_number, partition_number, heading, text, length) " +
                    "VALUES ($kb, $doc, $section, $number, $heading, $text, $length) RETURNING id",
                    ("$kb", kb), ("$doc", Text(d.DocumentId)), ("$section", p.SectionNumber), ("$number", p.PartitionNumber),
                    ("$heading", p.Heading), ("$text", p.Text), ("$length", p.Length)).ExecuteScalar()!;
                foreach (var (term, tf) in p.TermFrequencies)
                {
                    ctx.Execute("INSERT INTO knowledge_postings (term, partition_id, tf) VALUES ($term, $partition, $tf)",
                        ("$term", term), ("$partition", id), ("$tf", tf));
                }
            }
            return true;
        });

    public Task<bool> DeleteDocumentAsync(Guid knowledgeBaseId, Guid documentId, CancellationToken cancellationToken = default) =>
        writer.ExecuteAsync(ctx => DeleteDocument(ctx, knowledgeBaseId, documentId));

    public Task<int> DeleteKnowledgeBaseAsync(Guid knowledgeBaseId, CancellationToken cancellationToken = default) =>
        writer.ExecuteAsync(ctx => DeleteDocuments(ctx, knowledgeBaseId));

    public Task<IReadOnlyList<DocumentInfo>> ListDocumentsAsync(Guid knowledgeBaseId, CancellationToken cancellationToken = default) =>
        storage.ReadAsync("SELECT " + DocumentColumns + " FROM knowledge_documents WHERE knowledge_base_id = $kb ORDER BY document_id",
            r => ReadDocument(r, 0), cancellationToken, ("$kb", Text(knowledgeBaseId)));

    public async Task<CorpusStatistics> GetStatisticsAsync(IReadOnlyCollection<Guid> knowledgeBaseIds, CancellationToken cancellationToken = default)
    {
        var parameters = new List<(string, object?)>();
        var sql = "SELECT COUNT(*), COALESCE(SUM(length), 0) FROM knowledge_partitions WHERE knowledge_base_id IN (" +
                  InList(parameters, "$kb", Distinct(knowledgeBaseIds)) + ")";
        var rows = await storage.ReadAsync(sql, r => new CorpusStatistics(r.GetInt64(0), r.GetInt64(1)), cancellationToken, [.. parameters]);
        return rows[0];
    }

    public async Task<IReadOnlyList<Posting>> GetPostingsAsync(
        IReadOnlyCollection<Guid> knowledgeBaseIds, IReadOnlyCollection<string> terms, CancellationToken cancellationToken = default)
    {
        if (terms.Count == 0 || knowledgeBaseIds.Count == 0) return [];
        var parameters = new List<(string, object?)>();
        var termList = InList(parameters, "$t", new HashSet<string>(terms, StringComparer.Ordinal));
        var kbList = InList(parameters, "$kb", Distinct(knowledgeBaseIds));
        var sql = "SELECT p.term, p.partition_id, p.tf, k.length FROM knowledge_postings p JOIN knowledge_partitions k ON k.id = p.partition_id " +
                  "WHERE p.term IN (" + termList + ") AND k.knowledge_base_id IN (" + kbList + ")";
        return await storage.ReadAsync(sql, r => new Posting(r.GetString(0), r.GetInt64(1), r.GetInt32(2), r.GetInt32(3)), cancellationToken, [.. parameters]);
    }

    public async Task<IReadOnlyList<StoredPartition>> GetPartitionsAsync(IReadOnlyCollection<long> partitionIds, CancellationToken cancellationToken = default)
    {
        if (partitionIds.Count == 0) return [];
        var parameters = new List<(string, object?)>();
        var sql = "SELECT k.id, k.section_number, k.partition_number, k.heading, k.text, " +
                  "d.knowledge_base_id, d.document_id, d.file_id, d.source_name, d.source_url, d.content_type, d.last_update, d.tags_json " +
                  "FROM knowledge_partitions k JOIN knowledge_documents d ON d.knowledge_base_id = k.knowledge_base_id AND d.document_id = k.document_id " +
                  "WHERE k.id IN (" + InList(parameters, "$p", partitionIds) + ")";
        return await storage.ReadAsync(sql, r => new StoredPartition(
            r.GetInt64(0), ReadDocument(r, 5), r.GetInt32(1), r.GetInt32(2), r.TextOrNull(3), r.GetString(4)), cancellationToken, [.. parameters]);
    }

    /// <summary>Deletes one document with its partitions and postings; false when there was none.</summary>
    internal static bool DeleteDocument(WriteContext ctx, Guid knowledgeBaseId, Guid documentId)
    {
        var key = new (string, object?)[] { ("$kb", Text(knowledgeBaseId)), ("$doc", Text(documentId)) };
        ctx.Execute(
            "DELETE FROM knowledge_postings WHERE partition_id IN (SELECT id FROM knowledge_partitions WHERE knowledge_base_id = $kb AND document_id = $doc)", key);
        ctx.Execute("DELETE FROM knowledge_partitions WHERE knowledge_base_id = $kb AND document_id = $doc", key);
        return ctx.Execute("DELETE FROM knowledge_documents WHERE knowledge_base_id = $kb AND document_id = $doc", key) > 0;
    }

    /// <summary>Deletes every document of a knowledge base; returns how many.</summary>
    internal static int DeleteDocuments(WriteContext ctx, Guid knowledgeBaseId)
    {
        var key = ("$kb", (object?)Text(knowledgeBaseId));
        ctx.Execute("DELETE FROM knowledge_postings WHERE partition_id IN (SELECT id FROM knowledge_partitions WHERE knowledge_base_id = $kb)", key);
        ctx.Execute("DELETE FROM knowledge_partitions WHERE knowledge_base_id = $kb", key);
        return ctx.Execute("DELETE FROM knowledge_documents WHERE knowledge_base_id = $kb", key);
    }

    private static DocumentInfo ReadDocument(SqliteDataReader r, int o) => new()
    {
        KnowledgeBaseId = Guid.Parse(r.GetString(o)),
        DocumentId = Guid.Parse(r.GetString(o + 1)),
        FileId = r.GetString(o + 2),
        SourceName = r.GetString(o + 3),
        SourceUrl = r.TextOrNull(o + 4),
        ContentType = r.GetString(o + 5),
        LastUpdate = r.Time(o + 6),
        Tags = JsonSerializer.Deserialize<Dictionary<string, IReadOnlyList<string>>>(r.GetString(o + 7), Json) ?? [],
    };

    private static HashSet<string> Distinct(IEnumerable<Guid> ids)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in ids) set.Add(Text(id));
        return set;
    }

    /// <summary>Adds one bound parameter per value and returns their names, comma-separated, for an IN list.</summary>
    private static string InList<T>(List<(string, object?)> parameters, string prefix, IEnumerable<T> values)
    {
        var sql = new StringBuilder();
        foreach (var v in values)
        {
            var name = prefix + parameters.Count;
            if (sql.Length > 0) sql.Append(", ");
            sql.Append(name);
            parameters.Add((name, v));
        }
        return sql.ToString();
    }

    private static string Text(Guid id) => SqliteTemplateStore.Text(id);
}

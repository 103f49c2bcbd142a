using System.Text.Json;
using Promptd.Core;
using Promptd.Core.Knowledge;
using Promptd.Server.Http;

namespace Promptd.Server.Hyperleap;

/// <summary>How knowledge bases and documents look on the wire (document members are named as in citations).</summary>
internal static class KnowledgeWire
{
    public static void WriteKnowledgeBase(Utf8JsonWriter w, KnowledgeBase kb)
    {
        w.WriteStartObject();
        WriteKnowledgeBaseMembers(w, kb);
        w.WriteEndObject();
    }

    public static void WriteKnowledgeBaseMembers(Utf8JsonWriter w, KnowledgeBase kb)
    {
        w.WriteString("id", kb.Id);
        w.WriteString("name", kb.Name);
        w.WriteStringOrSkip("description", kb.Description);
        w.WriteString("userId", kb.UserId);
        w.WriteNumber("documentCount", kb.DocumentCount);
        w.WriteString("createdAt", Timestamps.ToText(kb.CreatedAt));
    }

    /// <summary>A document's members; with <paramref name="indexed"/> also its title, sections and partitions as just indexed.</summary>
    public static void WriteDocument(Utf8JsonWriter w, DocumentInfo d)
    {
        w.WriteStartObject();
        WriteDocumentMembers(w, d, null);
        w.WriteEndObject();
    }

    public static void WriteDocumentMembers(Utf8JsonWriter w, DocumentInfo d, IndexingResult? indexed)
    {
        w.WriteString("documentId", d.DocumentId);
        w.WriteString("knowledgeBaseId", d.KnowledgeBaseId);
        w.WriteString("fileId", d.FileId);
        w.WriteString("sourceName", d.SourceName);
        if (d.SourceUrl is { } url) w.WriteString("sourceUrl", url);
        else w.WriteNull("sourceUrl");
        w.WriteString("sourceContentType", d.ContentType);
        w.WriteString("lastUpdate", RunWire.WireTime(d.LastUpdate));
        WriteTags(w, d.Tags);
        if (indexed is not null)
        {
            w.WriteStringOrSkip("title", indexed.Title);
            w.WriteNumber("sections", indexed.SectionCount);
            w.WriteNumber("partitions", indexed.Partitions.Count);
        }
    }

    public static void WriteTags(Utf8JsonWriter w, IReadOnlyDictionary<string, IReadOnlyList<string>> tags)
    {
        w.WriteStartObject("tags");
        foreach (var (key, values) in tags)
        {
            w.WriteStartArray(key);
            foreach (var v in values) w.WriteStringValue(v);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}

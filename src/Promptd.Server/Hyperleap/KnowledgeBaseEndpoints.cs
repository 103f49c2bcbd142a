using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Promptd.Core;
using Promptd.Core.Knowledge;
using Promptd.Server.Http;
using static Promptd.Server.Hyperleap.HyperleapJson;

namespace Promptd.Server.Hyperleap;

/// <summary>
/// Knowledge bases and their documents. A document is uploaded as the raw request body with its
/// Content-Type (text/plain, text/markdown, text/html; 415 otherwise, before the body is read) and
/// its metadata in the query string: <c>?name=handbook.md&amp;sourceUrl=…&amp;fileId=…&amp;tag=team:docs</c>.
/// </summary>
internal static class KnowledgeBaseEndpoints
{
    private const string KnowledgeBase = "knowledge base";

    public static void Map(WebApplication app, PromptdServices s)
    {
        app.MapPost("/knowledge-bases", async (HttpContext c) =>
        {
            string name;
            string? description;
            using (var body = await JsonBody.ReadObjectAsync(c))
            {
                OnlyMembers(body.RootElement, "", "name", "description");
                name = body.RootElement.RequiredString("name");
                description = body.RootElement.OptionalString("description");
            }
            var kb = await s.KnowledgeBases.CreateAsync(name, description, c.Caller(), c.RequestAborted);
            await JsonResponse.WriteAsync(c, 201, w => KnowledgeWire.WriteKnowledgeBaseMembers(w, kb));
        });
        app.MapGet("/knowledge-bases", async (HttpContext c) =>
        {
            var list = await s.KnowledgeBases.ListAsync(c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w =>
            {
                w.WriteStartArray("knowledgeBases");
                foreach (var kb in list) KnowledgeWire.WriteKnowledgeBase(w, kb);
                w.WriteEndArray();
            });
        });
        app.MapGet("/knowledge-bases/{kbId}", async (HttpContext c, string kbId) =>
        {
            var kb = await s.KnowledgeBases.GetAsync(PathGuid(kbId, KnowledgeBase), c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => KnowledgeWire.WriteKnowledgeBaseMembers(w, kb));
        });
        app.MapDelete("/knowledge-bases/{kbId}", async (HttpContext c, string kbId) =>
        {
            await s.KnowledgeBases.DeleteAsync(PathGuid(kbId, KnowledgeBase), c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, _ => { });
        });
        app.MapPost("/knowledge-bases/{kbId}/documents", (HttpContext c, string kbId) => UploadAsync(c, s, PathGuid(kbId, KnowledgeBase), null));
        app.MapPut("/knowledge-bases/{kbId}/documents/{documentId}", (HttpContext c, string kbId, string documentId) =>
            UploadAsync(c, s, PathGuid(kbId, KnowledgeBase), PathGuid(documentId, "document")));
        app.MapGet("/knowledge-bases/{kbId}/documents", async (HttpContext c, string kbId) =>
        {
            var (_, documents) = await s.KnowledgeBases.ListDocumentsAsync(PathGuid(kbId, KnowledgeBase), c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w =>
            {
                w.WriteStartArray("documents");
                foreach (var d in documents) KnowledgeWire.WriteDocument(w, d);
                w.WriteEndArray();
            });
        });
        app.MapDelete("/knowledge-bases/{kbId}/documents/{documentId}", async (HttpContext c, string kbId, string documentId) =>
        {
            await s.KnowledgeBases.DeleteDocumentAsync(PathGuid(kbId, KnowledgeBase), PathGuid(documentId, "document"), c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, _ => { });
        });
    }

    private static async Task UploadAsync(HttpContext c, PromptdServices s, Guid kbId, Guid? documentId)
    {
        var contentType = c.Request.ContentType;
        try
        {
            // Refuse what cannot be read before reading it.
            DocumentContentType.Parse(contentType);
        }
        catch (UnsupportedContentTypeException e)
        {
            await HttpErrors.WriteAsync(c, 415, e.Message);
            return;
        }
        var limit = s.Options.MaxDocumentBytes;
        if (c.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limit;
        if (c.Request.ContentLength > limit) throw new PayloadTooLargeException($"documents are limited to {limit} bytes");
        var query = c.Request.Query;
        var upload = new DocumentUpload
        {
            DocumentId = documentId,
            SourceName = query["name"].ToString() is { Length: > 0 } name ? name : throw DomainException.Invalid("name is required: ?name=handbook.md"),
            FileId = query["fileId"].ToString() is { Length: > 0 } fileId ? fileId : null,
            SourceUrl = query["sourceUrl"].ToString() is { Length: > 0 } url ? url : null,
            Tags = ReadTags(query["tag"]),
            ContentType = contentType!,
            Content = await ReadBodyAsync(c, limit),
        };
        IndexingResult result;
        try
        {
            result = await s.KnowledgeBases.UploadAsync(kbId, upload, c.Caller(), c.RequestAborted);
        }
        catch (InvalidDocumentException e)
        {
            throw DomainException.Invalid(e.Message);
        }
        await JsonResponse.WriteAsync(c, documentId is null ? 201 : 200, w => KnowledgeWire.WriteDocumentMembers(w, result.Document, result));
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext c, long limit)
    {
        var buffer = new MemoryStream();
        await c.Request.Body.CopyToAsync(buffer, c.RequestAborted);
        if (buffer.Length > limit) throw new PayloadTooLargeException($"documents are limited to {limit} bytes");
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary><c>tag=key:value</c>, repeatable; a key given several times collects its values.</summary>
    private static Dictionary<string, IReadOnlyList<string>> ReadTags(Microsoft.Extensions.Primitives.StringValues values)
    {
        var tags = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var tag in values)
        {
            var colon = tag?.IndexOf(':') ?? -1;
            if (colon <= 0) throw DomainException.Invalid("tags are written tag=key:value");
            var key = tag![..colon];
            if (!tags.TryGetValue(key, out var list)) tags[key] = list = [];
            list.Add(tag[(colon + 1)..]);
        }
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (key, list) in tags) result[key] = list;
        return result;
    }
}

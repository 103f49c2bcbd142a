using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Promptd.Server.Http;

/// <summary>Writes a JSON object straight to the response body (no intermediate model or reflection).</summary>
public static class JsonResponse
{
    public static async Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> writeMembers)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await using (var w = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            w.WriteStartObject();
            writeMembers(w);
            w.WriteEndObject();
        }
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    public static Task OkAsync(HttpContext context, Action<Utf8JsonWriter> writeMembers) => WriteAsync(context, 200, writeMembers);

    /// <summary>A list query's answer, as every dialect shapes it: the items under <paramref name="itemsName"/>, then `after` (the cursor) and `count`.</summary>
    public static Task PageAsync<T>(HttpContext context, string itemsName, Promptd.Core.Query.QueryPage<T> page, Action<Utf8JsonWriter, T> writeItem) =>
        OkAsync(context, w =>
        {
            w.WriteStartArray(itemsName);
            foreach (var item in page.Items) writeItem(w, item);
            w.WriteEndArray();
            w.WritePropertyName("after");
            PromptSvc.PromptSvcWire.WriteCursor(w, page.After);
            w.WriteNumber("count", page.Count ?? 0);
        });

    public static void WriteStringOrSkip(this Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }
}

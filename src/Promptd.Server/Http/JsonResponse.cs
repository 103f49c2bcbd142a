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

    public static void WriteStringOrSkip(this Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }
}

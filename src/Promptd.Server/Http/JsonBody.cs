using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Promptd.Core;

namespace Promptd.Server.Http;

/// <summary>
/// Reads a request body as one JSON object and its members with strict types. Every mistake is a
/// <see cref="DomainException"/> (400) naming the member; a body over the limit is a 413.
/// </summary>
public static class JsonBody
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 32 };

    /// <summary>The body's root object; an empty body is <c>{}</c> when <paramref name="emptyIsObject"/>.</summary>
    public static async Task<JsonDocument> ReadObjectAsync(HttpContext context, bool emptyIsObject = false)
    {
        var limit = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (limit is { } max && context.Request.ContentLength > max) throw new PayloadTooLargeException($"request body is larger than {max} bytes");
        var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        if (buffer.Length == 0)
        {
            if (emptyIsObject) return JsonDocument.Parse("{}");
            throw DomainException.Invalid("request body must be a JSON object");
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), Options);
        }
        catch (JsonException)
        {
            throw DomainException.Invalid("invalid JSON");
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw DomainException.Invalid("request body must be a JSON object");
        }
        return doc;
    }

    public static string? OptionalString(this JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw DomainException.Invalid($"{name} must be a string");
    }

    public static string RequiredString(this JsonElement obj, string name) =>
        obj.OptionalString(name) ?? throw DomainException.Invalid($"{name} is required");

    public static int? OptionalInt(this JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : throw DomainException.Invalid($"{name} must be an integer");
    }

    public static double? OptionalNumber(this JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) ? d : throw DomainException.Invalid($"{name} must be a number");
    }

    public static bool? OptionalBool(this JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw DomainException.Invalid($"{name} must be a boolean");
    }

    public static JsonElement? OptionalObject(this JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Object ? v : throw DomainException.Invalid($"{name} must be an object");
    }
}

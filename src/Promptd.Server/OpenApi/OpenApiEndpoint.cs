using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Promptd.Server.OpenApi;

/// <summary>
/// Serves the hand-written OpenAPI document. Written by hand because the endpoints parse their
/// bodies themselves to give exact errors, which a generator cannot see. The base document
/// (openapi.json) is merged with one fragment per dialect (openapi.*.json: their "paths" and
/// "components" sections), so each dialect documents itself in its own file.
/// </summary>
public static class OpenApiEndpoint
{
    private const string ResourcePrefix = "Promptd.Server.OpenApi.";

    private static readonly Lazy<byte[]> Document = new(Build);

    public static void Map(WebApplication app) =>
        app.MapGet("/openapi.json", () => Results.Bytes(Document.Value, "application/json"));

    private static byte[] Build()
    {
        var assembly = typeof(OpenApiEndpoint).Assembly;
        var document = Load(ResourcePrefix + "openapi.json");
        var names = assembly.GetManifestResourceNames();
        Array.Sort(names, StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (!name.StartsWith(ResourcePrefix + "openapi.", StringComparison.Ordinal) || name == ResourcePrefix + "openapi.json") continue;
            var fragment = Load(name);
            MergeObject(document, fragment, "paths", name);
            if (fragment["components"] is JsonObject components)
            {
                if (document["components"] is not JsonObject into) document["components"] = into = new JsonObject();
                foreach (var (section, _) in components) MergeObject(into, components, section, name);
            }
        }
        return System.Text.Encoding.UTF8.GetBytes(document.ToJsonString());
    }

    /// <summary>Copies target[key]'s members from source[key]; a member defined twice is a build mistake.</summary>
    private static void MergeObject(JsonObject target, JsonObject source, string key, string fragmentName)
    {
        if (source[key] is not JsonObject from) return;
        if (target[key] is not JsonObject into) target[key] = into = new JsonObject();
        foreach (var (name, value) in from)
        {
            if (into.ContainsKey(name)) throw new InvalidOperationException($"{fragmentName} defines {key}.{name} again");
            into[name] = value?.DeepClone();
        }
    }

    private static JsonObject Load(string resource)
    {
        using var stream = typeof(OpenApiEndpoint).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"{resource} is not embedded");
        return JsonNode.Parse(stream) as JsonObject ?? throw new InvalidOperationException($"{resource} is not a JSON object");
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Promptd.Server.OpenApi;

/// <summary>
/// Serves the hand-written OpenAPI document (embedded in the assembly). Written by hand because the
/// endpoints parse their bodies themselves to give exact errors, which a generator cannot see.
/// </summary>
public static class OpenApiEndpoint
{
    private static readonly Lazy<byte[]> Document = new(() =>
    {
        using var stream = typeof(OpenApiEndpoint).Assembly.GetManifestResourceStream("Promptd.Server.openapi.json")
            ?? throw new InvalidOperationException("openapi.json is not embedded");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static void Map(WebApplication app) =>
        app.MapGet("/openapi.json", () => Results.Bytes(Document.Value, "application/json"));
}

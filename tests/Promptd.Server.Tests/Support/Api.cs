using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Promptd.Server.Tests.Support;

/// <summary>An HTTP client for one API key, returning status and parsed JSON.</summary>
public sealed class Api : IDisposable
{
    public Api(string baseUrl, string? key, bool bearer = false)
    {
        Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            if (bearer) Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            else Http.DefaultRequestHeaders.Add("x-hl-api-key", key);
        }
    }

    public HttpClient Http { get; }

    public Task<Response> PostAsync(string path, object body) => SendAsync(HttpMethod.Post, path, JsonSerializer.Serialize(body));

    public Task<Response> PostRawAsync(string path, string body) => SendAsync(HttpMethod.Post, path, body);

    public Task<Response> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<Response> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    public Task<Response> PutAsync(string path, object body) => SendAsync(HttpMethod.Put, path, JsonSerializer.Serialize(body));

    public async Task<Response> SendAsync(HttpMethod method, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        // As curl does for big uploads: let the server refuse (413) before the body is sent, instead
        // of racing a connection reset while uploading.
        if (body is { Length: > 65536 }) request.Headers.ExpectContinue = true;
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Response(response.StatusCode, text, response.Content.Headers.ContentType?.MediaType);
    }

    public void Dispose() => Http.Dispose();
}

public sealed record Response(HttpStatusCode Status, string Body, string? ContentType)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public Response ExpectStatus(int status)
    {
        Assert.True((int)Status == status, $"expected {status}, got {(int)Status}: {Body}");
        return this;
    }

    public Response ExpectOk() => ExpectStatus(200);

    /// <summary>The "prompt" member of a prompt-svc response.</summary>
    public JsonElement Prompt => Json.GetProperty("prompt");
}

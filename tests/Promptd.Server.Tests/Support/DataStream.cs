using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Promptd.Server.Tests.Support;

/// <summary>
/// A POST answered with an OpenAI-style stream, read line by line: the <c>data:</c> payloads in order,
/// and every raw line (to check there is no <c>event:</c> line). Ends when the server ends the body
/// or cuts the connection (<see cref="Broken"/>).
/// </summary>
public sealed class DataStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private DataStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public HttpStatusCode Status => _response.StatusCode;
    public string? ContentType => _response.Content.Headers.ContentType?.MediaType;
    public List<string> Lines { get; } = [];
    public List<string> Data { get; } = [];

    /// <summary>True when the connection broke instead of ending the body normally.</summary>
    public bool Broken { get; private set; }

    public static async Task<DataStream> PostAsync(HttpClient http, string path, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new DataStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>The next data payload; null at the end of the body.</summary>
    public async Task<string?> NextDataAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            while (await _reader.ReadLineAsync(cts.Token) is { } line)
            {
                Lines.Add(line);
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                Data.Add(line[6..]);
                return line[6..];
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            Broken = true;
        }
        return null;
    }

    /// <summary>Every remaining data payload.</summary>
    public async Task<List<string>> ReadToEndAsync(TimeSpan? timeout = null)
    {
        while (await NextDataAsync(timeout) is not null)
        {
        }
        return Data;
    }

    /// <summary>The JSON data payloads (all but [DONE]).</summary>
    public List<JsonElement> Json => Data.Where(d => d != "[DONE]").Select(d => JsonDocument.Parse(d).RootElement).ToList();

    public async Task<string> BodyAsync() => await _reader.ReadToEndAsync();

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}

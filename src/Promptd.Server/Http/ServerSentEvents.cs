using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Promptd.Core;
using Promptd.Core.Runs;

namespace Promptd.Server.Http;

/// <summary>
/// Writes a run event stream as Server-Sent Events: <c>id:</c> (the event id, for Last-Event-ID),
/// <c>event:</c> and one-line JSON <c>data:</c>, a blank line after each, and a <c>: ping</c>
/// comment every heartbeat. Each dialect supplies how an event looks on its wire.
/// </summary>
public static class ServerSentEvents
{
    /// <summary>Renders one event: its SSE type and the members of its JSON data (null type: skip the event).</summary>
    public delegate string? Render(RunEvent e, Utf8JsonWriter data);

    private static readonly byte[] Ping = ": ping\n\n"u8.ToArray();

    /// <summary>The id after which to resume: the Last-Event-ID header (or ?lastEventId=), 0 when absent.</summary>
    public static long ResumeAfter(HttpRequest request)
    {
        var text = request.Headers["Last-Event-ID"].ToString();
        if (text.Length == 0) text = request.Query["lastEventId"].ToString();
        if (text.Length == 0) return 0;
        return long.TryParse(text, System.Globalization.NumberStyles.None, null, out var id)
            ? id
            : throw DomainException.Invalid("Last-Event-ID must be a non-negative integer");
    }

    /// <summary>
    /// Streams until the events end, the client leaves or the server stops (<paramref name="stopping"/>).
    /// A slow client only delays its own writes: its events wait in storage, not in the generator.
    /// </summary>
    public static async Task StreamAsync(
        HttpContext context, Func<CancellationToken, IAsyncEnumerable<RunEvent>> events, Render render, TimeSpan heartbeat, CancellationToken stopping)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(context.RequestAborted);

        using var gate = new SemaphoreSlim(1, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var pings = PingAsync(response, gate, heartbeat, stop.Token);
        var buffer = new ArrayBufferWriter<byte>(256);
        try
        {
            await foreach (var e in events(stop.Token))
            {
                buffer.ResetWrittenCount();
                if (!Format(e, render, buffer)) continue;
                await gate.WaitAsync(stop.Token);
                try
                {
                    await response.BodyWriter.WriteAsync(buffer.WrittenMemory, stop.Token);
                    await response.BodyWriter.FlushAsync(stop.Token);
                }
                finally
                {
                    gate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The subscriber left or the server is stopping.
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await pings;
            }
            catch (OperationCanceledException)
            {
                // Stopped with the stream.
            }
        }
    }

    private static bool Format(RunEvent e, Render render, ArrayBufferWriter<byte> buffer)
    {
        var data = new ArrayBufferWriter<byte>(128);
        string? type;
        using (var w = new Utf8JsonWriter(data))
        {
            w.WriteStartObject();
            type = render(e, w);
            w.WriteEndObject();
        }
        if (type is null) return false;
        Append(buffer, "id: ");
        Append(buffer, e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Append(buffer, "\nevent: ");
        Append(buffer, type);
        Append(buffer, "\ndata: ");
        buffer.Write(data.WrittenSpan);
        Append(buffer, "\n\n");
        return true;
    }

    private static void Append(ArrayBufferWriter<byte> buffer, string text)
    {
        var span = buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        buffer.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private static async Task PingAsync(HttpResponse response, SemaphoreSlim gate, TimeSpan heartbeat, CancellationToken token)
    {
        using var timer = new PeriodicTimer(heartbeat);
        while (await timer.WaitForNextTickAsync(token))
        {
            await gate.WaitAsync(token);
            try
            {
                await response.BodyWriter.WriteAsync(Ping, token);
                await response.BodyWriter.FlushAsync(token);
            }
            finally
            {
                gate.Release();
            }
        }
    }
}

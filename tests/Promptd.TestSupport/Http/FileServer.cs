using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Promptd.TestSupport.Http;

/// <summary>
/// A download host on a real Kestrel: serves one file's bytes at any path, with Range support,
/// and lets each test script how a given request misbehaves (cut mid-body, ignore the range, fail).
/// </summary>
public sealed class FileServer : IAsyncDisposable
{
    public const string ETag = "\"v1-0123456789abcdef\"";

    private readonly ScriptedServer _server;

    private FileServer(ScriptedServer server) => _server = server;

    public Uri BaseUri => _server.BaseUri;

    /// <summary>What each request asked for, in order.</summary>
    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    public sealed record SeenRequest(string Path, string? Range, string? IfRange, string? Authorization);

    /// <summary><paramref name="script"/> gets each request and its 1-based number and answers it (usually through <see cref="ServeAsync"/>).</summary>
    public static async Task<FileServer> StartAsync(Func<HttpContext, int, Task> script)
    {
        FileServer? self = null;
        int count = 0;
        var server = await ScriptedServer.StartAsync(app => app.MapGet("/{**path}", ctx =>
        {
            var h = ctx.Request.Headers;
            self!.Requests.Enqueue(new SeenRequest(ctx.Request.Path, h.Range.FirstOrDefault(), h.IfRange.FirstOrDefault(), h.Authorization.FirstOrDefault()));
            return script(ctx, Interlocked.Increment(ref count));
        }));
        self = new FileServer(server);
        return self;
    }

    /// <summary>A server that serves <paramref name="file"/> correctly every time.</summary>
    public static Task<FileServer> StartAsync(byte[] file) => StartAsync((ctx, _) => ServeAsync(ctx, file));

    /// <summary>
    /// Serves <paramref name="file"/> honouring "Range: bytes=N-" (206, or 416 past the end) and
    /// If-Range, unless <paramref name="ignoreRange"/>; after <paramref name="cutAfter"/> body bytes
    /// the connection is aborted, as a dropped network would (or, with <paramref name="stallAtCut"/>,
    /// it goes silent until the client hangs up).
    /// </summary>
    public static async Task ServeAsync(HttpContext ctx, byte[] file, bool ignoreRange = false, long? cutAfter = null, Task? beforeBody = null, bool stallAtCut = false)
    {
        long from = 0;
        var range = ctx.Request.Headers.Range.FirstOrDefault();
        var ifRange = ctx.Request.Headers.IfRange.FirstOrDefault();
        ctx.Response.Headers.ETag = ETag;
        ctx.Response.Headers.AcceptRanges = "bytes";
        if (!ignoreRange && range is not null && (ifRange is null || ifRange == ETag))
        {
            from = RangeHeaderValue.Parse(range).Ranges.Single().From!.Value;
            if (from >= file.Length)
            {
                ctx.Response.StatusCode = 416;
                ctx.Response.Headers.ContentRange = $"bytes */{file.Length}";
                return;
            }
            ctx.Response.StatusCode = 206;
            ctx.Response.Headers.ContentRange = $"bytes {from}-{file.Length - 1}/{file.Length}";
        }
        ctx.Response.ContentLength = file.Length - from;
        ctx.Response.ContentType = "application/octet-stream";
        await ctx.Response.Body.FlushAsync();
        if (beforeBody is not null) await beforeBody;

        const int Chunk = 64 * 1024;
        long end = cutAfter is { } cut ? Math.Min(file.Length, from + cut) : file.Length;
        for (long i = from; i < end; i += Chunk)
        {
            await ctx.Response.Body.WriteAsync(file.AsMemory((int)i, (int)Math.Min(Chunk, end - i)));
            await ctx.Response.Body.FlushAsync();
        }
        if (end < file.Length && stallAtCut)
        {
            await Task.Delay(Timeout.Infinite, ctx.RequestAborted).ContinueWith(_ => { });
        }
        else if (end < file.Length)
        {
            await Task.Delay(50); // let the bytes leave before the reset
            ctx.Abort();
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}

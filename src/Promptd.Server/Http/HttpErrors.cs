using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Promptd.Core;
using Promptd.Core.Query;

namespace Promptd.Server.Http;

/// <summary>A request body over the size limit.</summary>
public sealed class PayloadTooLargeException(string message) : Exception(message);

/// <summary>
/// A request refused with a given status. <see cref="Code"/> and <see cref="Param"/> are for dialects
/// whose errors carry them (OpenAI's <c>code</c> and <c>param</c>); the others show the message only.
/// </summary>
public sealed class RequestException(int status, string message, string? code = null, string? param = null) : Exception(message)
{
    public int Status { get; } = status;
    public string? Code { get; } = code;
    public string? Param { get; } = param;
}

/// <summary>
/// Turns every failure into <c>{"error": "…"}</c> with the right status (under /v1, OpenAI's
/// <c>{"error": {"message", "type", "param", "code"}}</c>) and never lets a stack trace or exception
/// text of an unexpected error reach the client.
/// </summary>
public static class HttpErrors
{
    public static async Task HandleAsync(HttpContext context, RequestDelegate next, ILogger logger)
    {
        try
        {
            await next(context);
            if (context.Response.StatusCode is 404 or 405 && !context.Response.HasStarted && context.Response.ContentLength is null
                && context.Response.ContentType is null)
            {
                await WriteAsync(context, context.Response.StatusCode, context.Response.StatusCode == 404 ? "not found" : "method not allowed");
            }
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            var (status, message) = Classify(e, context, logger);
            if (status == 0) return;
            await WriteAsync(context, status, message, e as RequestException);
        }
        catch (Exception e) when (e is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away in the middle of a stream.
        }
    }

    private static (int Status, string Message) Classify(Exception e, HttpContext context, ILogger logger) => e switch
    {
        DomainException d => (d.Kind switch
        {
            ErrorKind.Invalid => 400,
            ErrorKind.NotFound => 404,
            ErrorKind.Conflict => 409,
            ErrorKind.Forbidden => 403,
            _ => 500,
        }, d.Message),
        RequestException r => (r.Status, r.Message),
        QueryException q => (400, q.Message),
        PayloadTooLargeException p => (413, p.Message),
        BadHttpRequestException b when b.StatusCode == 413 => (413, "request body too large"),
        BadHttpRequestException b => (b.StatusCode, "bad request"),
        OperationCanceledException when context.RequestAborted.IsCancellationRequested => (0, ""),
        OperationCanceledException when Stopping(context) => (503, "the server is stopping"),
        _ => Unexpected(e, context, logger),
    };

    private static bool Stopping(HttpContext context) =>
        context.RequestServices.GetService(typeof(Microsoft.Extensions.Hosting.IHostApplicationLifetime))
            is Microsoft.Extensions.Hosting.IHostApplicationLifetime { ApplicationStopping.IsCancellationRequested: true };

    private static (int, string) Unexpected(Exception e, HttpContext context, ILogger logger)
    {
        logger.LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
        return (500, "internal server error");
    }

    public static Task WriteAsync(HttpContext context, int status, string message, RequestException? details = null)
    {
        context.Response.Clear();
        if (OpenAi.OpenAiErrors.Owns(context.Request.Path))
            return OpenAi.OpenAiErrors.WriteAsync(context, status, message, details?.Code, details?.Param);
        return JsonResponse.WriteAsync(context, status, w => w.WriteString("error", message));
    }
}

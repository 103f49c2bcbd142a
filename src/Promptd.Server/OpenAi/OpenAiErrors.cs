using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Promptd.Server.Http;

namespace Promptd.Server.OpenAi;

/// <summary>
/// OpenAI's error shape, <c>{"error": {"message", "type", "param", "code"}}</c>, used for every error
/// under /v1 (bad requests, authentication, unknown routes, failures) so the OpenAI SDKs raise their
/// usual exceptions with the message. Other paths keep Promptd's <c>{"error": "…"}</c>.
/// </summary>
public static class OpenAiErrors
{
    private static readonly PathString Prefix = new("/v1");

    public static bool Owns(PathString path) => path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase);

    public static Task WriteAsync(HttpContext context, int status, string message, string? code, string? param) =>
        JsonResponse.WriteAsync(context, status, w => WriteError(w, status, message, code, param));

    /// <summary>The <c>error</c> member: also what a stream sends as its last data when a run fails midway.</summary>
    public static void WriteError(Utf8JsonWriter w, int status, string message, string? code, string? param)
    {
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", TypeOf(status));
        if (param is null) w.WriteNull("param");
        else w.WriteString("param", param);
        code ??= status == 401 ? "invalid_api_key" : null;
        if (code is null) w.WriteNull("code");
        else w.WriteString("code", code);
        w.WriteEndObject();
    }

    /// <summary>OpenAI's error types: the SDKs key their exception classes on the status, people read the type.</summary>
    private static string TypeOf(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    /// <summary>A 404 for a model this server does not have, as OpenAI words it (code <c>model_not_found</c>).</summary>
    public static RequestException ModelNotFound(string message) => new(404, message, "model_not_found", "model");

    /// <summary>A 400 naming the request member at fault.</summary>
    public static RequestException Invalid(string param, string message) => new(400, message, null, param);
}

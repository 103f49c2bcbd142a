using Microsoft.AspNetCore.Http;
using Promptd.Core.Users;

namespace Promptd.Server.Http;

/// <summary>
/// API-key authentication: <c>x-hl-api-key: KEY</c> or <c>Authorization: Bearer KEY</c>. Every
/// path but health and the OpenAPI document needs a valid key (401 otherwise).
/// </summary>
public static class Authentication
{
    private const string CallerItem = "promptd.caller";

    private static readonly PathString[] PublicPaths = [new("/healthz"), new("/readyz"), new("/openapi.json")];

    public static async Task HandleAsync(HttpContext context, RequestDelegate next, UserService users)
    {
        foreach (var p in PublicPaths)
        {
            if (context.Request.Path.Equals(p, StringComparison.OrdinalIgnoreCase))
            {
                await next(context);
                return;
            }
        }
        var key = KeyOf(context.Request);
        if (key is null)
        {
            await HttpErrors.WriteAsync(context, 401, "missing API key: send x-hl-api-key or Authorization: Bearer");
            return;
        }
        var caller = await users.AuthenticateAsync(key, context.RequestAborted);
        if (caller is null)
        {
            await HttpErrors.WriteAsync(context, 401, "invalid API key");
            return;
        }
        context.Items[CallerItem] = caller;
        await next(context);
    }

    public static Caller Caller(this HttpContext context) =>
        context.Items[CallerItem] as Caller ?? throw new InvalidOperationException("endpoint reached without authentication");

    private static string? KeyOf(HttpRequest request)
    {
        var hl = request.Headers["x-hl-api-key"].ToString();
        if (hl.Length > 0) return hl.Trim();
        var auth = request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (auth.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) && auth.Length > bearer.Length) return auth[bearer.Length..].Trim();
        return null;
    }
}

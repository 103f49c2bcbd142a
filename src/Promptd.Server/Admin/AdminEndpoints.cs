using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core;
using Promptd.Core.Users;
using Promptd.Server.Http;

namespace Promptd.Server.Admin;

/// <summary>
/// Users and API keys (admins only; others get 403): <c>POST /admin/users {name, isAdmin?}</c> →
/// 201 with the user and their first key (shown once), <c>GET /admin/users</c>,
/// <c>POST|GET /admin/users/{id}/keys</c>, <c>DELETE /admin/keys/{id}</c>; <c>GET /me</c> for anyone.
/// </summary>
public static class AdminEndpoints
{
    public static void Map(WebApplication app, PromptdServices s)
    {
        app.MapPost("/admin/users", async (HttpContext c) =>
        {
            using var body = await JsonBody.ReadObjectAsync(c);
            var (user, key) = await s.Users.CreateUserAsync(
                body.RootElement.RequiredString("name"), body.RootElement.OptionalBool("isAdmin") ?? false, c.Caller(), c.RequestAborted);
            await JsonResponse.WriteAsync(c, 201, w =>
            {
                w.WritePropertyName("user");
                WriteUser(w, user);
                w.WritePropertyName("apiKey");
                WriteKey(w, key.Record, key.Key);
            });
        });
        app.MapGet("/admin/users", async (HttpContext c) =>
        {
            var users = await s.Users.ListUsersAsync(c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w =>
            {
                w.WriteStartArray("users");
                foreach (var u in users) WriteUser(w, u);
                w.WriteEndArray();
            });
        });
        app.MapPost("/admin/users/{userId}/keys", async (HttpContext c, string userId) =>
        {
            var key = await s.Users.CreateKeyAsync(userId, c.Caller(), c.RequestAborted);
            await JsonResponse.WriteAsync(c, 201, w => { w.WritePropertyName("apiKey"); WriteKey(w, key.Record, key.Key); });
        });
        app.MapGet("/admin/users/{userId}/keys", async (HttpContext c, string userId) =>
        {
            var keys = await s.Users.ListKeysAsync(userId, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w =>
            {
                w.WriteStartArray("apiKeys");
                foreach (var k in keys) WriteKey(w, k, null);
                w.WriteEndArray();
            });
        });
        app.MapDelete("/admin/keys/{keyId}", async (HttpContext c, string keyId) =>
        {
            await s.Users.DeleteKeyAsync(keyId, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, _ => { });
        });
        app.MapGet("/me", async (HttpContext c) =>
        {
            var user = await s.Users.GetSelfAsync(c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => { w.WritePropertyName("user"); WriteUser(w, user); });
        });
    }

    private static void WriteUser(Utf8JsonWriter w, User u)
    {
        w.WriteStartObject();
        w.WriteString("id", u.Id);
        w.WriteString("name", u.Name);
        w.WriteBoolean("isAdmin", u.IsAdmin);
        w.WriteString("createdAt", Timestamps.ToText(u.CreatedAt));
        w.WriteEndObject();
    }

    private static void WriteKey(Utf8JsonWriter w, ApiKeyRecord k, string? key)
    {
        w.WriteStartObject();
        w.WriteString("id", k.Id);
        w.WriteString("userId", k.UserId);
        w.WriteString("prefix", k.Prefix);
        w.WriteStringOrSkip("key", key);
        w.WriteString("createdAt", Timestamps.ToText(k.CreatedAt));
        w.WriteEndObject();
    }
}

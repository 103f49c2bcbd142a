using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core;
using Promptd.Server.Http;

namespace Promptd.Server.ChatSvc;

/// <summary>
/// Threads and messages, shaped like Superplatform's chat-svc: <c>POST /chat-svc/thread</c>
/// <c>{thread{id?, title?}}</c>, <c>GET|PUT|DELETE /chat-svc/thread/{id}</c>, <c>POST /chat-svc/threads</c>,
/// <c>POST /chat-svc/thread/{id}/message</c> <c>{message{id?, role?, content}}</c>,
/// <c>POST|GET /chat-svc/thread/{id}/messages</c>, <c>GET|DELETE /chat-svc/message/{id}</c>.
/// </summary>
public static class ChatSvcEndpoints
{
    public static void Map(WebApplication app, PromptdServices s)
    {
        app.MapPost("/chat-svc/thread", async (HttpContext c) =>
        {
            using var body = await JsonBody.ReadObjectAsync(c, emptyIsObject: true);
            var thread = body.RootElement.OptionalObject("thread") ?? default;
            var created = await s.Threads.CreateAsync(
                thread.ValueKind == JsonValueKind.Object ? thread.OptionalString("id") : null,
                thread.ValueKind == JsonValueKind.Object ? thread.OptionalString("title") : null,
                c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => { w.WritePropertyName("thread"); ChatSvcWire.WriteThread(w, created); });
        });
        app.MapGet("/chat-svc/thread/{threadId}", async (HttpContext c, string threadId) =>
        {
            var thread = await s.Threads.GetAsync(threadId, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w =>
            {
                w.WriteBoolean("exists", true);
                w.WritePropertyName("thread");
                ChatSvcWire.WriteThread(w, thread);
            });
        });
        app.MapPut("/chat-svc/thread/{threadId}", async (HttpContext c, string threadId) =>
        {
            using var body = await JsonBody.ReadObjectAsync(c);
            var thread = body.RootElement.OptionalObject("thread") ?? throw DomainException.Invalid("thread is required");
            var updated = await s.Threads.UpdateAsync(threadId, thread.OptionalString("title"), c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => { w.WritePropertyName("thread"); ChatSvcWire.WriteThread(w, updated); });
        });
        app.MapDelete("/chat-svc/thread/{threadId}", async (HttpContext c, string threadId) =>
        {
            await s.Threads.DeleteAsync(threadId, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, _ => { });
        });
        app.MapPost("/chat-svc/threads", async (HttpContext c) =>
        {
            using (await JsonBody.ReadObjectAsync(c, emptyIsObject: true)) { }
            var threads = await s.Threads.ListAsync(c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w =>
            {
                w.WriteStartArray("threads");
                foreach (var t in threads) ChatSvcWire.WriteThread(w, t);
                w.WriteEndArray();
            });
        });
        app.MapPost("/chat-svc/thread/{threadId}/message", async (HttpContext c, string threadId) =>
        {
            using var body = await JsonBody.ReadObjectAsync(c);
            var m = body.RootElement.OptionalObject("message") ?? throw DomainException.Invalid("message is required");
            var added = await s.Threads.AddMessageAsync(
                threadId, m.OptionalString("id"), m.OptionalString("role"), m.RequiredString("content"), c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => { w.WritePropertyName("message"); ChatSvcWire.WriteMessage(w, added); });
        });
        app.MapPost("/chat-svc/thread/{threadId}/messages", (HttpContext c, string threadId) => ListMessagesAsync(c, s, threadId));
        app.MapGet("/chat-svc/thread/{threadId}/messages", (HttpContext c, string threadId) => ListMessagesAsync(c, s, threadId));
        app.MapGet("/chat-svc/message/{messageId}", async (HttpContext c, string messageId) =>
        {
            var m = await s.Threads.GetMessageAsync(messageId, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => { w.WritePropertyName("message"); ChatSvcWire.WriteMessage(w, m); });
        });
        app.MapDelete("/chat-svc/message/{messageId}", async (HttpContext c, string messageId) =>
        {
            await s.Threads.DeleteMessageAsync(messageId, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, _ => { });
        });
    }

    private static async Task ListMessagesAsync(HttpContext c, PromptdServices s, string threadId)
    {
        var messages = await s.Threads.ListMessagesAsync(threadId, c.Caller(), c.RequestAborted);
        await JsonResponse.OkAsync(c, w =>
        {
            w.WriteStartArray("messages");
            foreach (var m in messages) ChatSvcWire.WriteMessage(w, m);
            w.WriteEndArray();
        });
    }
}

using System.Text.Json;
using Promptd.Core;
using Promptd.Core.Threads;
using Promptd.Server.Http;

namespace Promptd.Server.ChatSvc;

/// <summary>Threads and messages as the chat service dialect shows them.</summary>
public static class ChatSvcWire
{
    public static void WriteThread(Utf8JsonWriter w, ChatThread t)
    {
        w.WriteStartObject();
        w.WriteString("id", t.Id);
        w.WriteString("title", t.Title);
        w.WriteString("userId", t.UserId);
        w.WriteStartArray("userIds");
        w.WriteStringValue(t.UserId);
        w.WriteEndArray();
        w.WriteString("createdAt", Timestamps.ToText(t.CreatedAt));
        w.WriteString("updatedAt", Timestamps.ToText(t.UpdatedAt));
        w.WriteEndObject();
    }

    public static void WriteMessage(Utf8JsonWriter w, ThreadMessage m)
    {
        w.WriteStartObject();
        w.WriteString("id", m.Id);
        w.WriteString("threadId", m.ThreadId);
        w.WriteString("role", m.Role);
        w.WriteString("content", m.Content);
        w.WriteStringOrSkip("userId", m.UserId);
        w.WriteStringOrSkip("promptId", m.RunId);
        w.WriteString("createdAt", Timestamps.ToText(m.CreatedAt));
        w.WriteString("updatedAt", Timestamps.ToText(m.UpdatedAt));
        w.WriteEndObject();
    }
}

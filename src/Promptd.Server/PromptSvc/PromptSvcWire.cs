using System.Text.Json;
using Promptd.Core;
using Promptd.Core.Runs;
using Promptd.Server.Http;

namespace Promptd.Server.PromptSvc;

/// <summary>How runs and their events look in the prompt queue dialect (the Superplatform "prompt").</summary>
public static class PromptSvcWire
{
    /// <summary>A queued prompt object. Absent optional members (error, lastRun, template, threadId) are omitted.</summary>
    public static void WritePrompt(Utf8JsonWriter w, Run run)
    {
        w.WriteStartObject();
        w.WriteString("createdAt", Timestamps.ToText(run.CreatedAt));
        w.WriteStringOrSkip("error", run.Error);
        w.WriteString("id", run.Id);
        if (run.LastRun is { } last) w.WriteString("lastRun", Timestamps.ToText(last));
        w.WriteNumber("maxRetries", run.MaxRetries);
        w.WriteString("modelId", run.ModelId);
        w.WriteString("prompt", run.Input.Prompt);
        w.WriteNumber("runCount", run.RunCount);
        w.WriteString("status", run.Status.ToWire());
        w.WriteBoolean("sync", run.Sync);
        w.WriteStringOrSkip("template", run.Input.Template);
        w.WriteStringOrSkip("threadId", run.ThreadId);
        w.WriteString("updatedAt", Timestamps.ToText(run.UpdatedAt));
        w.WriteString("userId", run.UserId);
        w.WriteEndObject();
    }

    /// <summary>The cursor as returned in <c>after</c>: the order values of the last row, then its id.</summary>
    public static void WriteCursor(Utf8JsonWriter w, IReadOnlyList<object?>? cursor)
    {
        if (cursor is null)
        {
            w.WriteNullValue();
            return;
        }
        w.WriteStartArray();
        foreach (var v in cursor)
        {
            switch (v)
            {
                case null: w.WriteNullValue(); break;
                case string s: w.WriteStringValue(s); break;
                case long n: w.WriteNumberValue(n); break;
                case int n: w.WriteNumberValue(n); break;
                case bool b: w.WriteBooleanValue(b); break;
                default: w.WriteStringValue(Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)); break;
            }
        }
        w.WriteEndArray();
    }

    /// <summary>
    /// One stream event: SSE type = the run event type; data carries the prompt id and what the
    /// event says (text for deltas, error and retry time, finish reason and usage, answer message).
    /// </summary>
    public static string? RenderEvent(RunEvent e, Utf8JsonWriter w)
    {
        w.WriteNumber("id", e.Id);
        w.WriteNumber("seq", e.Seq);
        w.WriteString("type", e.Type.ToWire());
        w.WriteString("promptId", e.RunId);
        w.WriteStringOrSkip("threadId", e.ThreadId);
        if (e.Attempt is { } a) w.WriteNumber("attempt", a);
        w.WriteStringOrSkip("text", e.Text);
        w.WriteStringOrSkip("error", e.Error);
        if (e.FinishReason is { } f) w.WriteString("finishReason", f.ToWire());
        if (e.Usage is { } u)
        {
            w.WriteStartObject("usage");
            w.WriteNumber("promptTokens", u.PromptTokens);
            w.WriteNumber("completionTokens", u.CompletionTokens);
            w.WriteNumber("totalTokens", u.TotalTokens);
            w.WriteEndObject();
        }
        w.WriteStringOrSkip("messageId", e.MessageId);
        if (e.RetryAt is { } r) w.WriteString("retryAt", Timestamps.ToText(r));
        w.WriteString("createdAt", Timestamps.ToText(e.CreatedAt));
        return e.Type.ToWire();
    }
}

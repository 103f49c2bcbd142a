using System.Buffers;
using System.Text;
using System.Text.Json;
using Promptd.Core;
using Promptd.Core.Engines;
using Promptd.Core.Moderation;
using Promptd.Core.Runs;

namespace Promptd.Storage.Sqlite;

/// <summary>The payload of a stored event (everything but its id, run, seq, thread and type) as compact JSON.</summary>
internal static class RunEventCodec
{
    public static string Encode(RunEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (e.Text?.Length ?? 0));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (e.Attempt is { } a) w.WriteNumber("attempt", a);
            if (e.Text is { } t) w.WriteString("text", t);
            if (e.Error is { } err) w.WriteString("error", err);
            if (e.FinishReason is { } f) w.WriteString("finishReason", f.ToWire());
            if (e.Usage is { } u)
            {
                w.WriteStartObject("usage");
                w.WriteNumber("promptTokens", u.PromptTokens);
                w.WriteNumber("completionTokens", u.CompletionTokens);
                if (u.TimeToFirstTokenMs is { } ttft) w.WriteNumber("timeToFirstTokenMs", ttft);
                if (u.GenerationMs is { } gen) w.WriteNumber("generationMs", gen);
                w.WriteEndObject();
            }
            if (e.MessageId is { } m) w.WriteString("messageId", m);
            if (e.RetryAt is { } r) w.WriteString("retryAt", Timestamps.ToText(r));
            if (e.Moderation is { } moderation)
            {
                w.WriteStartArray("moderation");
                foreach (var c in moderation)
                {
                    w.WriteStartObject();
                    w.WriteString("category", c.Category.ToWire());
                    w.WriteString("severity", c.Severity.ToWire());
                    w.WriteBoolean("filtered", c.Filtered);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static RunEvent Decode(long id, string runId, int seq, string? threadId, string type, string data, string createdAt)
    {
        using var doc = JsonDocument.Parse(data);
        var root = doc.RootElement;
        return new RunEvent
        {
            Id = id,
            RunId = runId,
            Seq = seq,
            ThreadId = threadId,
            Type = RunEventTypes.Parse(type),
            CreatedAt = Timestamps.Parse(createdAt),
            Attempt = root.TryGetProperty("attempt", out var a) ? a.GetInt32() : null,
            Text = root.TryGetProperty("text", out var t) ? t.GetString() : null,
            Error = root.TryGetProperty("error", out var err) ? err.GetString() : null,
            FinishReason = root.TryGetProperty("finishReason", out var f) ? RunEventTypes.ParseFinishReason(f.GetString()!) : null,
            Usage = root.TryGetProperty("usage", out var u)
                ? new EngineUsage(
                    u.GetProperty("promptTokens").GetInt32(), u.GetProperty("completionTokens").GetInt32(),
                    u.TryGetProperty("timeToFirstTokenMs", out var ttft) ? ttft.GetDouble() : null,
                    u.TryGetProperty("generationMs", out var gen) ? gen.GetDouble() : null)
                : null,
            MessageId = root.TryGetProperty("messageId", out var m) ? m.GetString() : null,
            RetryAt = root.TryGetProperty("retryAt", out var r) ? Timestamps.Parse(r.GetString()!) : null,
            Moderation = root.TryGetProperty("moderation", out var mod) ? DecodeModeration(mod) : null,
        };
    }

    private static List<CategoryResult> DecodeModeration(JsonElement array)
    {
        var results = new List<CategoryResult>(array.GetArrayLength());
        foreach (var c in array.EnumerateArray())
        {
            if (!ModerationNames.TryParseCategory(c.GetProperty("category").GetString(), out var category)
                || !ModerationNames.TryParseSeverity(c.GetProperty("severity").GetString(), out var severity))
                throw new FormatException("unknown moderation category or severity in a stored event");
            results.Add(new CategoryResult(category, severity, c.GetProperty("filtered").GetBoolean()));
        }
        return results;
    }
}

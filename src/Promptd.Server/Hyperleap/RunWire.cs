using System.Globalization;
using System.Text;
using System.Text.Json;
using Promptd.Core;
using Promptd.Core.Engines;
using Promptd.Core.Knowledge.Retrieval;
using Promptd.Core.Moderation;
using Promptd.Core.Runs;
using Promptd.Core.TemplateRuns;
using Promptd.Server.Http;

namespace Promptd.Server.Hyperleap;

/// <summary>
/// How template runs look on the wire: the run object of the reference
/// (<c>choice{finish_reason, index, message{role, content, toolCallId, name}, moderation_results{categoryResults[]}},
/// usage, messageId, runId, citations[]</c>), as every SSE event and as the run-sync answer, and the
/// run record of <c>GET /prompt-runs/{runId}</c>.
/// </summary>
internal static class RunWire
{
    /// <summary>The SSE event name of every event: what EventSource delivers to <c>onmessage</c>.</summary>
    public const string EventName = "message";

    /// <summary>
    /// Renders a run's events. Deltas carry their new text (finish_reason null, zero usage, no moderation
    /// results or citations yet); the terminal event carries finish_reason (stop, length, content_filter;
    /// error for a failed or canceled run), the full usage, the moderation results and the citations, and
    /// no text. Without <paramref name="stream"/> only the terminal event is sent, holding the whole answer.
    /// </summary>
    public static ServerSentEvents.Render Renderer(TemplateRun run, bool stream)
    {
        var answer = stream ? null : new StringBuilder();
        return (e, w) =>
        {
            switch (e.Type)
            {
                case RunEventType.Delta when stream:
                    WriteRunObject(w, run, null, e.Text ?? "", null, null, final: false);
                    return EventName;
                case RunEventType.Delta:
                    answer!.Append(e.Text);
                    return null;
                case RunEventType.Completed:
                    WriteRunObject(w, run, e.FinishReason ?? FinishReason.Stop, answer?.ToString() ?? "", e.Usage, e.Moderation, final: true);
                    return EventName;
                case RunEventType.Abandoned or RunEventType.Canceled:
                    WriteRunObject(w, run, FinishReason.Error, answer?.ToString() ?? "", null, null, final: true);
                    return EventName;
                default:
                    // Started, and Errored (template runs are not retried): nothing to tell the client.
                    return null;
            }
        };
    }

    /// <summary>The members of one run object (the caller writes the braces).</summary>
    public static void WriteRunObject(
        Utf8JsonWriter w, TemplateRun run, FinishReason? finish, string content, EngineUsage? usage, IReadOnlyList<CategoryResult>? moderation, bool final)
    {
        w.WriteStartObject("choice");
        if (finish is { } f) w.WriteString("finish_reason", f.ToWire());
        else w.WriteNull("finish_reason");
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        w.WriteString("content", content);
        w.WriteNull("toolCallId");
        w.WriteNull("name");
        w.WriteEndObject();
        WriteModeration(w, moderation);
        w.WriteEndObject();
        WriteUsage(w, usage);
        w.WriteString("messageId", run.Details.MessageId);
        w.WriteString("runId", run.Run.Id);
        WriteCitations(w, final ? run.Details.Citations : []);
    }

    /// <summary>The run-sync answer: the run object of a finished run, with the whole answer.</summary>
    public static void WriteFinished(Utf8JsonWriter w, TemplateRun run)
    {
        var finish = run.Run.Status == RunStatus.Completed ? run.Run.FinishReason ?? FinishReason.Stop : FinishReason.Error;
        WriteRunObject(w, run, finish, run.Run.Answer ?? "", run.Completed?.Usage, run.Completed?.Moderation, final: true);
    }

    /// <summary>Everything a run records: version, input as rendered, model and parameters with the seed used, timings, tokens, outcome.</summary>
    public static void WriteRecord(Utf8JsonWriter w, TemplateRun t)
    {
        w.WriteStartObject();
        WriteRecordMembers(w, t);
        w.WriteEndObject();
    }

    public static void WriteRecordMembers(Utf8JsonWriter w, TemplateRun t)
    {
        var run = t.Run;
        var d = t.Details;
        var usage = t.Completed?.Usage;
        w.WriteString("id", run.Id);
        w.WriteString("promptId", d.TemplateId);
        w.WriteString("promptVersionId", d.VersionId);
        w.WriteNumber("promptVersion", d.VersionNumber);
        w.WriteString("userId", run.UserId);
        w.WriteString("status", run.Status.ToWire());
        w.WriteBoolean("background", d.Background);
        w.WriteString("modelId", run.ModelId);
        w.WritePropertyName("parameters");
        TemplateWire.WriteParameters(w, run.Input.Sampling, run.Input.MaxTokens, run.Input.Stop);
        w.WriteStartObject("replacements");
        foreach (var (name, value) in d.Replacements) w.WriteString(name, value);
        w.WriteEndObject();
        w.WriteStartArray("unusedReplacements");
        foreach (var name in d.UnusedReplacements) w.WriteStringValue(name);
        w.WriteEndArray();
        w.WriteStartArray("renderedPrompt");
        foreach (var m in run.Input.Messages ?? []) TemplateWire.WriteMessage(w, m.Role, m.Content);
        w.WriteEndArray();
        if (run.Answer is { } answer) w.WriteString("answer", answer);
        else w.WriteNull("answer");
        if (run.Status.IsTerminal()) w.WriteString("finishReason", (run.Status == RunStatus.Completed ? run.FinishReason ?? FinishReason.Stop : FinishReason.Error).ToWire());
        else w.WriteNull("finishReason");
        w.WriteStringOrSkip("error", run.Error);
        WriteUsage(w, usage);
        w.WriteStartObject("timings");
        WriteMs(w, "queueMs", run.LastRun is { } started ? (started - run.CreatedAt).TotalMilliseconds : null);
        WriteMs(w, "timeToFirstTokenMs", usage?.TimeToFirstTokenMs);
        WriteMs(w, "generationMs", usage?.GenerationMs);
        WriteMs(w, "totalMs", run.Status.IsTerminal() ? (run.UpdatedAt - run.CreatedAt).TotalMilliseconds : null);
        w.WriteEndObject();
        WriteModeration(w, t.Completed?.Moderation);
        WriteCitations(w, d.Citations);
        w.WriteString("messageId", d.MessageId);
        w.WriteString("createdAt", Timestamps.ToText(run.CreatedAt));
        if (run.LastRun is { } last) w.WriteString("startedAt", Timestamps.ToText(last));
        else w.WriteNull("startedAt");
        if (run.Status.IsTerminal()) w.WriteString("finishedAt", Timestamps.ToText(run.UpdatedAt));
        else w.WriteNull("finishedAt");
    }

    private static void WriteMs(Utf8JsonWriter w, string name, double? ms)
    {
        if (ms is { } v) w.WriteNumber(name, Math.Round(v, 3));
        else w.WriteNull(name);
    }

    private static void WriteUsage(Utf8JsonWriter w, EngineUsage? usage)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage?.PromptTokens ?? 0);
        w.WriteNumber("completion_tokens", usage?.CompletionTokens ?? 0);
        w.WriteNumber("total_tokens", usage?.TotalTokens ?? 0);
        w.WriteEndObject();
    }

    private static void WriteModeration(Utf8JsonWriter w, IReadOnlyList<CategoryResult>? moderation)
    {
        w.WriteStartObject("moderation_results");
        w.WriteStartArray("categoryResults");
        foreach (var c in moderation ?? [])
        {
            w.WriteStartObject();
            w.WriteString("category", c.Category.ToWire());
            w.WriteBoolean("filtered", c.Filtered);
            w.WriteString("severity", c.Severity.ToWire());
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteCitations(Utf8JsonWriter w, IReadOnlyList<Citation> citations)
    {
        w.WriteStartArray("citations");
        foreach (var c in citations)
        {
            w.WriteStartObject();
            w.WriteString("link", c.Link);
            w.WriteString("index", c.Index);
            w.WriteString("documentId", c.DocumentId);
            w.WriteString("fileId", c.FileId);
            w.WriteString("sourceContentType", c.SourceContentType);
            w.WriteString("sourceName", c.SourceName);
            if (c.SourceUrl is { } url) w.WriteString("sourceUrl", url);
            else w.WriteNull("sourceUrl");
            w.WriteStartArray("partitions");
            foreach (var p in c.Partitions)
            {
                w.WriteStartObject();
                w.WriteString("text", p.Text);
                w.WriteNumber("relevance", p.Relevance);
                w.WriteNumber("partitionNumber", p.PartitionNumber);
                w.WriteNumber("sectionNumber", p.SectionNumber);
                w.WriteString("lastUpdate", WireTime(p.LastUpdate));
                KnowledgeWire.WriteTags(w, p.Tags);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>The reference's date-time form: RFC 3339 UTC to the second (2023-11-07T05:31:56Z).</summary>
    public static string WireTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

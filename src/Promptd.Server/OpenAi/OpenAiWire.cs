using System.Buffers;
using System.Text.Json;
using Promptd.Core.Engines;
using Promptd.Core.Engines.Resolution;
using Promptd.Core.Runs;
using Promptd.Server.Http;

namespace Promptd.Server.OpenAi;

/// <summary>
/// How runs look in OpenAI's objects: <c>chat.completion</c> and its <c>chat.completion.chunk</c>s,
/// <c>text_completion</c> (whole and streamed), usage, and the model list. The completion id is the
/// run id with OpenAI's prefix, <c>created</c> the run's creation time in Unix seconds.
/// </summary>
public static class OpenAiWire
{
    /// <summary>What every object of one completion repeats.</summary>
    public readonly record struct Head(string Id, long Created, string Model, bool Chat)
    {
        public static Head Of(Run run) => new(
            (run.Kind == RunKinds.ChatCompletion ? "chatcmpl-" : "cmpl-") + run.Id,
            run.CreatedAt.ToUnixTimeSeconds(),
            run.ModelId,
            run.Kind == RunKinds.ChatCompletion);

        public string Object => Chat ? "chat.completion" : "text_completion";
        public string ChunkObject => Chat ? "chat.completion.chunk" : "text_completion";
    }

    /// <summary>A finished run as one <c>chat.completion</c> or <c>text_completion</c> object (its members).</summary>
    public static void WriteCompletionMembers(Utf8JsonWriter w, Run run)
    {
        var head = Head.Of(run);
        WriteHead(w, head, head.Object);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (head.Chat)
        {
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", run.Answer ?? "");
            w.WriteNull("refusal");
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", run.Answer ?? "");
        }
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", FinishReasonOf(run.FinishReason ?? FinishReason.Stop));
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, new EngineUsage(run.PromptTokens ?? 0, run.CompletionTokens ?? 0));
    }

    /// <summary>
    /// One streamed chunk: a delta (<paramref name="role"/> on the first chat chunk, else text), or
    /// the last one with <paramref name="finish"/>. With <paramref name="usageNull"/> it carries
    /// <c>"usage": null</c>, as OpenAI's chunks do when the usage is asked for.
    /// </summary>
    public static void WriteChunkMembers(Utf8JsonWriter w, Head head, string? role, string? text, FinishReason? finish, bool usageNull)
    {
        WriteHead(w, head, head.ChunkObject);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (head.Chat)
        {
            w.WriteStartObject("delta");
            if (role is not null) w.WriteString("role", role);
            if (text is not null) w.WriteString("content", text);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", text ?? "");
        }
        w.WriteNull("logprobs");
        if (finish is { } f) w.WriteString("finish_reason", FinishReasonOf(f));
        else w.WriteNull("finish_reason");
        w.WriteEndObject();
        w.WriteEndArray();
        if (usageNull) w.WriteNull("usage");
    }

    /// <summary>The extra last chunk of <c>stream_options.include_usage</c>: no choices, the whole usage.</summary>
    public static void WriteUsageChunkMembers(Utf8JsonWriter w, Head head, EngineUsage usage)
    {
        WriteHead(w, head, head.ChunkObject);
        w.WriteStartArray("choices");
        w.WriteEndArray();
        WriteUsage(w, usage);
    }

    /// <summary>The model list of <c>GET /v1/models</c>.</summary>
    public static void WriteModelList(Utf8JsonWriter w, IReadOnlyList<ModelInfo> models)
    {
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        foreach (var m in models)
        {
            w.WriteStartObject();
            WriteModelMembers(w, m);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static void WriteModelMembers(Utf8JsonWriter w, ModelInfo m)
    {
        w.WriteString("id", m.Id);
        w.WriteString("object", "model");
        w.WriteNumber("created", m.CreatedAt.ToUnixTimeSeconds());
        w.WriteString("owned_by", OwnerOf(m));
    }

    /// <summary>A Hugging Face model's owner (huggingface/OWNER/…); "upstream" or "promptd" for the others.</summary>
    private static string OwnerOf(ModelInfo m) => m.Engine switch
    {
        ModelEngineKind.Embedded when m.Id.Split('/') is { Length: > 2 } parts => parts[1],
        ModelEngineKind.Upstream => "upstream",
        _ => "promptd",
    };

    private static void WriteHead(Utf8JsonWriter w, Head head, string type)
    {
        w.WriteString("id", head.Id);
        w.WriteString("object", type);
        w.WriteNumber("created", head.Created);
        w.WriteString("model", head.Model);
    }

    private static void WriteUsage(Utf8JsonWriter w, EngineUsage usage)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage.PromptTokens);
        w.WriteNumber("completion_tokens", usage.CompletionTokens);
        w.WriteNumber("total_tokens", usage.TotalTokens);
        w.WriteEndObject();
    }

    /// <summary>
    /// OpenAI's finish reasons. A run that finished with an engine-reported error (an upstream that said
    /// "error") still delivered a whole answer, and the SDKs reject reasons they do not know: "stop".
    /// </summary>
    public static string FinishReasonOf(FinishReason reason) => reason switch
    {
        FinishReason.Length => "length",
        FinishReason.ContentFilter => "content_filter",
        _ => "stop",
    };

    /// <summary>Appends one <c>data:</c> frame (no <c>event:</c> line: the npm client would hand such events out raw).</summary>
    public static void AppendFrame(ArrayBufferWriter<byte> buffer, Action<Utf8JsonWriter> writeMembers) =>
        ServerSentEvents.AppendEvent(buffer, null, writeMembers);

    public static void AppendDone(ArrayBufferWriter<byte> buffer) => buffer.Write("data: [DONE]\n\n"u8);
}

using System.Text.Json;
using Promptd.Core;
using Promptd.Core.Engines;
using Promptd.Core.Moderation;
using Promptd.Core.Templates;
using Promptd.Server.Http;
using static Promptd.Server.Hyperleap.HyperleapJson;

namespace Promptd.Server.Hyperleap;

/// <summary>How templates ("prompts") and their versions look on the wire, both ways.</summary>
internal static class TemplateWire
{
    private static readonly string[] ParameterNames =
        ["maxTokens", "temperature", "topP", "topK", "minP", "repeatPenalty", "frequencyPenalty", "presencePenalty", "seed", "stop"];

    /// <summary>A version's content from a request body: <c>{modelId, messages[{role, content}], parameters?, knowledgeBaseIds?, moderation?}</c>.</summary>
    public static TemplateVersionContent ReadContent(JsonElement body)
    {
        var modelId = body.RequiredString("modelId");
        if (OptionalArray(body, "messages") is not { } messagesJson) throw DomainException.Invalid("messages is required");
        var messages = new List<TemplateMessage>();
        var i = 0;
        foreach (var m in messagesJson.EnumerateArray())
        {
            var where = $"messages[{i++}].";
            if (m.ValueKind != JsonValueKind.Object) throw DomainException.Invalid($"messages must be an array of {{role, content}} objects");
            OnlyMembers(m, where, "role", "content");
            messages.Add(new TemplateMessage(
                m.OptionalString("role") ?? throw DomainException.Invalid($"{where}role is required"),
                m.OptionalString("content") ?? throw DomainException.Invalid($"{where}content is required")));
        }
        if (messages.Count == 0) throw DomainException.Invalid("messages must hold at least one message");

        var knowledgeBaseIds = new List<Guid>();
        foreach (var id in StringList(OptionalArray(body, "knowledgeBaseIds"), "knowledgeBaseIds"))
        {
            if (!Guid.TryParseExact(id, "D", out var kb)) throw DomainException.Invalid("knowledgeBaseIds must hold knowledge base ids (UUIDs)");
            if (!knowledgeBaseIds.Contains(kb)) knowledgeBaseIds.Add(kb);
        }
        return new TemplateVersionContent
        {
            ModelId = modelId,
            Messages = messages,
            Parameters = body.OptionalObject("parameters") is { } p ? ReadParameters(p) : new PromptParameters(),
            KnowledgeBaseIds = knowledgeBaseIds,
            Moderation = body.OptionalObject("moderation") is { } mod ? ReadModeration(mod) : ModerationPolicy.Default,
        };
    }

    private static PromptParameters ReadParameters(JsonElement p)
    {
        const string where = "parameters.";
        OnlyMembers(p, where, ParameterNames);
        ulong? seed = null;
        if (p.TryGetProperty("seed", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            seed = s.ValueKind == JsonValueKind.Number && s.TryGetUInt64(out var v) ? v : throw DomainException.Invalid("parameters.seed must be a non-negative integer");
        }
        return new PromptParameters
        {
            MaxTokens = OptionalInt(p, "maxTokens", where),
            Stop = StringList(p.TryGetProperty("stop", out var stop) ? stop : null, "parameters.stop", allowSingle: true),
            Sampling = new SamplingParameters
            {
                Temperature = OptionalFloat(p, "temperature", where),
                TopP = OptionalFloat(p, "topP", where),
                TopK = OptionalInt(p, "topK", where),
                MinP = OptionalFloat(p, "minP", where),
                RepeatPenalty = OptionalFloat(p, "repeatPenalty", where),
                FrequencyPenalty = OptionalFloat(p, "frequencyPenalty", where),
                PresencePenalty = OptionalFloat(p, "presencePenalty", where),
                Seed = seed,
            },
        };
    }

    private static ModerationPolicy ReadModeration(JsonElement m)
    {
        OnlyMembers(m, "moderation.", "threshold", "categories");
        Dictionary<string, string?>? categories = null;
        if (m.OptionalObject("categories") is { } c)
        {
            categories = [];
            foreach (var p in c.EnumerateObject())
            {
                if (p.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                    throw DomainException.Invalid("moderation.categories values must be low, medium, high or off");
                categories[p.Name] = p.Value.GetString() ?? "off";
            }
        }
        try
        {
            return ModerationPolicy.FromWire(m.OptionalString("threshold"), categories);
        }
        catch (ModerationPolicyException e)
        {
            throw DomainException.Invalid(e.Message);
        }
    }

    public static void WriteTemplate(Utf8JsonWriter w, TemplateRecord t)
    {
        w.WriteStartObject();
        WriteTemplateMembers(w, t, null);
        w.WriteEndObject();
    }

    /// <summary>The template's members; <paramref name="version"/> (the default one, usually) is included as <c>defaultVersion</c> when given.</summary>
    public static void WriteTemplateMembers(Utf8JsonWriter w, TemplateRecord t, TemplateVersion? version)
    {
        w.WriteString("id", t.Id);
        w.WriteString("name", t.Name);
        w.WriteStringOrSkip("description", t.Description);
        w.WriteString("userId", t.UserId);
        w.WriteString("defaultVersionId", t.DefaultVersionId);
        w.WriteNumber("versionCount", t.VersionCount);
        w.WriteStartObject("labels");
        foreach (var label in t.Labels.Keys.Order(StringComparer.Ordinal)) w.WriteString(label, t.Labels[label]);
        w.WriteEndObject();
        w.WriteString("createdAt", Timestamps.ToText(t.CreatedAt));
        w.WriteString("updatedAt", Timestamps.ToText(t.UpdatedAt));
        if (version is not null)
        {
            w.WritePropertyName("defaultVersion");
            WriteVersion(w, t, version);
        }
    }

    public static void WriteVersion(Utf8JsonWriter w, TemplateRecord t, TemplateVersion v)
    {
        w.WriteStartObject();
        WriteVersionMembers(w, t, v);
        w.WriteEndObject();
    }

    public static void WriteVersionMembers(Utf8JsonWriter w, TemplateRecord t, TemplateVersion v)
    {
        var c = v.Content;
        w.WriteString("id", v.Id);
        w.WriteString("promptId", v.TemplateId);
        w.WriteNumber("version", v.Number);
        w.WriteBoolean("isDefault", t.DefaultVersionId == v.Id);
        w.WriteStartArray("labels");
        foreach (var label in t.LabelsOf(v.Id)) w.WriteStringValue(label);
        w.WriteEndArray();
        w.WriteString("modelId", c.ModelId);
        w.WriteStartArray("messages");
        foreach (var m in c.Messages) WriteMessage(w, m.Role, m.Content);
        w.WriteEndArray();
        w.WriteStartArray("variables");
        foreach (var name in PromptTemplate.Parse(c.Messages).Variables) w.WriteStringValue(name);
        w.WriteEndArray();
        w.WritePropertyName("parameters");
        WriteParameters(w, c.Parameters.Sampling, c.Parameters.MaxTokens, c.Parameters.Stop);
        w.WriteStartArray("knowledgeBaseIds");
        foreach (var id in c.KnowledgeBaseIds) w.WriteStringValue(id);
        w.WriteEndArray();
        w.WriteStartObject("moderation");
        w.WriteString("threshold", ModerationPolicy.ThresholdToWire(c.Moderation.Threshold));
        w.WriteStartObject("categories");
        foreach (var category in ModerationNames.Categories)
        {
            if (c.Moderation.CategoryThresholds.TryGetValue(category, out var threshold)) w.WriteString(category.ToWire(), ModerationPolicy.ThresholdToWire(threshold));
        }
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteString("createdAt", Timestamps.ToText(v.CreatedAt));
    }

    /// <summary>Sampling parameters as the API spells them; unset ones are left out.</summary>
    public static void WriteParameters(Utf8JsonWriter w, SamplingParameters s, int? maxTokens, IReadOnlyList<string> stop)
    {
        w.WriteStartObject();
        if (maxTokens is { } n) w.WriteNumber("maxTokens", n);
        if (s.Temperature is { } t) w.WriteNumber("temperature", t);
        if (s.TopP is { } topP) w.WriteNumber("topP", topP);
        if (s.TopK is { } topK) w.WriteNumber("topK", topK);
        if (s.MinP is { } minP) w.WriteNumber("minP", minP);
        if (s.RepeatPenalty is { } rp) w.WriteNumber("repeatPenalty", rp);
        if (s.FrequencyPenalty is { } fp) w.WriteNumber("frequencyPenalty", fp);
        if (s.PresencePenalty is { } pp) w.WriteNumber("presencePenalty", pp);
        if (s.Seed is { } seed) w.WriteNumber("seed", seed);
        w.WriteStartArray("stop");
        foreach (var x in stop) w.WriteStringValue(x);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void WriteMessage(Utf8JsonWriter w, string role, string content)
    {
        w.WriteStartObject();
        w.WriteString("role", role);
        w.WriteString("content", content);
        w.WriteEndObject();
    }

    public static void WriteDiff(Utf8JsonWriter w, TemplateDiff diff)
    {
        w.WriteString("from", diff.From.Id);
        w.WriteNumber("fromVersion", diff.From.Number);
        w.WriteString("to", diff.To.Id);
        w.WriteNumber("toVersion", diff.To.Number);
        w.WriteStartArray("changes");
        foreach (var change in diff.Changes)
        {
            w.WriteStartObject();
            w.WriteString("path", change.Path);
            w.WriteString("kind", change.Kind switch
            {
                VersionChangeKind.Added => "added",
                VersionChangeKind.Removed => "removed",
                _ => "changed",
            });
            w.WritePropertyName("before");
            WriteValue(w, change.Before);
            w.WritePropertyName("after");
            WriteValue(w, change.After);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case TemplateMessage m: WriteMessage(w, m.Role, m.Content); break;
            case string s: w.WriteStringValue(s); break;
            case int i: w.WriteNumberValue(i); break;
            case float f: w.WriteNumberValue(f); break;
            case ulong u: w.WriteNumberValue(u); break;
            default: w.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }
}

using System.Text.Json;
using Promptd.Core;
using Promptd.Core.Engines.Embedded;
using Promptd.Core.Engines.Resolution;
using Promptd.Core.Models;
using Promptd.Server.Http;

namespace Promptd.Server.Models;

/// <summary>How models and pulls look on Promptd's own API.</summary>
public static class ModelsWire
{
    public static void WriteModel(Utf8JsonWriter w, ModelInfo m, int concurrency)
    {
        w.WriteStartObject();
        w.WriteString("id", m.Id);
        w.WriteString("engine", m.Engine switch
        {
            ModelEngineKind.Embedded => "embedded",
            ModelEngineKind.Upstream => "upstream",
            _ => "diagnostic",
        });
        w.WriteString("status", m.State switch
        {
            ModelState.Loading => "loading",
            ModelState.Loaded => "loaded",
            ModelState.Failed => "failed",
            _ => "available",
        });
        if (m.SizeBytes is { } size) w.WriteNumber("sizeBytes", size);
        w.WriteNumber("memoryBytes", m.MemoryBytes);
        w.WriteNumber("activeGenerations", m.ActiveGenerations);
        w.WriteNumber("concurrency", concurrency);
        if (m.LoadedAt is { } loaded) w.WriteString("loadedAt", Timestamps.ToText(loaded));
        w.WriteStringOrSkip("error", m.Error);
        if (m.Endpoints is { } endpoints)
        {
            w.WriteNumber("endpoints", endpoints);
            w.WriteNumber("healthyEndpoints", m.HealthyEndpoints ?? 0);
        }
        if (m.Settings is { } s) WriteSettings(w, s);
        w.WriteEndObject();
    }

    private static void WriteSettings(Utf8JsonWriter w, ModelSettings s)
    {
        w.WriteStartObject("settings");
        w.WriteStringOrSkip("chatTemplate", s.ChatTemplate);
        if (s.ContextLength is { } context) w.WriteNumber("contextLength", context);
        var d = s.Defaults;
        if (!d.IsEmpty)
        {
            w.WriteStartObject("defaults");
            Number("temperature", d.Temperature);
            Number("topP", d.TopP);
            Number("topK", d.TopK);
            Number("minP", d.MinP);
            Number("repeatPenalty", d.RepeatPenalty);
            Number("frequencyPenalty", d.FrequencyPenalty);
            Number("presencePenalty", d.PresencePenalty);
            Number("maxTokens", d.MaxTokens);
            if (d.Stop.Count > 0)
            {
                w.WriteStartArray("stop");
                foreach (var stop in d.Stop) w.WriteStringValue(stop);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();

        void Number(string name, double? value)
        {
            if (value is { } v) w.WriteNumber(name, Math.Round(v, 6));
        }
    }

    public static void WriteProgress(Utf8JsonWriter w, PullProgress p)
    {
        w.WriteString("stage", p.Stage switch
        {
            PullStage.Waiting => "waiting",
            PullStage.Downloading => "downloading",
            PullStage.Verifying => "verifying",
            _ => "installed",
        });
        w.WriteNumber("bytesDone", p.BytesDone);
        if (p.TotalBytes is { } total) w.WriteNumber("totalBytes", total);
        w.WriteNumber("bytesPerSecond", Math.Round(p.BytesPerSecond));
    }

    public static void WritePullResult(Utf8JsonWriter w, PullResult r)
    {
        w.WriteString("modelId", r.Id.Value);
        w.WriteNumber("sizeBytes", r.SizeBytes);
        w.WriteBoolean("alreadyInstalled", r.AlreadyInstalled);
    }
}

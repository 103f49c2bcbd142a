using Promptd.Core.Engines;

namespace Promptd.Core.Models;

/// <summary>
/// One model's own settings, from configuration (<c>Models:Settings</c>, a list). Plain settable
/// properties so it binds from configuration and JSON alike. Any model id may have settings: a GGUF
/// file, an upstream model or a diagnostic one (the chat template and context length only matter to
/// GGUF models, which the embedded engine runs).
/// </summary>
public sealed class ModelSettings
{
    public string ModelId { get; set; } = "";

    /// <summary>Chat template by name (chatml, llama3, mistral-v3…); null: detected from the model.</summary>
    public string? ChatTemplate { get; set; }

    /// <summary>Tokens of each generation's KV cache; null: the engine-wide setting.</summary>
    public int? ContextLength { get; set; }

    /// <summary>Runs of this model at once; null: the scheduler's default.</summary>
    public int? Concurrency { get; set; }

    /// <summary>Used for whatever a request leaves unset.</summary>
    public ModelDefaults Defaults { get; set; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelId)) throw new ArgumentException("model settings: ModelId is required");
        string who = $"model settings for '{ModelId}'";
        if (ChatTemplate is { } name && !ContainsIgnoreCase(Inference.Chat.ChatTemplate.Names, name))
            throw new ArgumentException($"{who}: unknown ChatTemplate '{name}' (known: {string.Join(", ", Inference.Chat.ChatTemplate.Names)})");
        if (ContextLength is < 16 or > 1 << 20) throw new ArgumentException($"{who}: ContextLength must be between 16 and {1 << 20}");
        if (Concurrency is < 1 or > 4096) throw new ArgumentException($"{who}: Concurrency must be between 1 and 4096");
        Defaults.Validate(who);
    }

    /// <summary>Validates every entry and indexes them by model id; an id given twice is an <see cref="ArgumentException"/>.</summary>
    public static Dictionary<string, ModelSettings> Index(IEnumerable<ModelSettings> settings)
    {
        var index = new Dictionary<string, ModelSettings>(StringComparer.Ordinal);
        foreach (var s in settings)
        {
            s.Validate();
            if (!index.TryAdd(s.ModelId, s)) throw new ArgumentException($"model settings for '{s.ModelId}' are given twice");
        }
        return index;
    }

    private static bool ContainsIgnoreCase(IReadOnlyList<string> names, string name)
    {
        foreach (var n in names)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }
}

/// <summary>Request parameters a model uses when a request does not set them; null leaves the engine's default.</summary>
public sealed class ModelDefaults
{
    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public int? TopK { get; set; }
    public float? MinP { get; set; }
    public float? RepeatPenalty { get; set; }
    public float? FrequencyPenalty { get; set; }
    public float? PresencePenalty { get; set; }
    public int? MaxTokens { get; set; }
    public List<string> Stop { get; set; } = [];

    public bool IsEmpty =>
        Temperature is null && TopP is null && TopK is null && MinP is null && RepeatPenalty is null
        && FrequencyPenalty is null && PresencePenalty is null && MaxTokens is null && Stop.Count == 0;

    /// <summary><paramref name="request"/> with these values wherever it has none (stop strings: only when it has none at all).</summary>
    public EngineRequest ApplyTo(EngineRequest request)
    {
        var s = request.Sampling;
        return request with
        {
            Sampling = s with
            {
                Temperature = s.Temperature ?? Temperature,
                TopP = s.TopP ?? TopP,
                TopK = s.TopK ?? TopK,
                MinP = s.MinP ?? MinP,
                RepeatPenalty = s.RepeatPenalty ?? RepeatPenalty,
                FrequencyPenalty = s.FrequencyPenalty ?? FrequencyPenalty,
                PresencePenalty = s.PresencePenalty ?? PresencePenalty,
            },
            MaxTokens = request.MaxTokens ?? MaxTokens,
            Stop = request.Stop.Count > 0 || Stop.Count == 0 ? request.Stop : Stop,
        };
    }

    internal void Validate(string who)
    {
        if (Temperature is < 0 or > 10 || (Temperature is { } t && !float.IsFinite(t))) throw new ArgumentException($"{who}: Defaults.Temperature must be between 0 and 10");
        if (TopP is <= 0 or > 1 || (TopP is { } p && !float.IsFinite(p))) throw new ArgumentException($"{who}: Defaults.TopP must be in (0, 1]");
        if (TopK is < 0) throw new ArgumentException($"{who}: Defaults.TopK must not be negative");
        if (MinP is < 0 or > 1) throw new ArgumentException($"{who}: Defaults.MinP must be between 0 and 1");
        if (RepeatPenalty is <= 0) throw new ArgumentException($"{who}: Defaults.RepeatPenalty must be positive");
        if (FrequencyPenalty is < -2 or > 2) throw new ArgumentException($"{who}: Defaults.FrequencyPenalty must be between -2 and 2");
        if (PresencePenalty is < -2 or > 2) throw new ArgumentException($"{who}: Defaults.PresencePenalty must be between -2 and 2");
        if (MaxTokens is < 1) throw new ArgumentException($"{who}: Defaults.MaxTokens must be at least 1");
        foreach (var stop in Stop)
        {
            if (string.IsNullOrEmpty(stop)) throw new ArgumentException($"{who}: Defaults.Stop must not contain empty strings");
        }
    }
}

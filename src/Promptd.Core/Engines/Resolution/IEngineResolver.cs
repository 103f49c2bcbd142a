namespace Promptd.Core.Engines.Resolution;

/// <summary>Finds the engine that serves a model id. The scheduler asks it at the start of each attempt.</summary>
public interface IEngineResolver
{
    /// <summary>
    /// The engine for <paramref name="modelId"/>. Throws a non-retryable <see cref="EngineException"/>
    /// with a message for the user when the model is unknown or its file is missing.
    /// </summary>
    IEngine Resolve(string modelId);

    /// <summary>Whether the id names a model this server could serve (it may still need downloading).</summary>
    bool IsKnown(string modelId);

    /// <summary>The model used when a request names none; null when there is no model at all.</summary>
    string? DefaultModelId { get; }
}

/// <summary>Serves a family of model ids (e.g. every GGUF file under the models folder).</summary>
public interface IEngineProvider
{
    /// <summary>True when the id belongs to this provider; the engine may throw on use (missing file).</summary>
    bool TryResolve(string modelId, out IEngine engine);
}

using System.Collections.Concurrent;

namespace Promptd.Core.Engines.Resolution;

/// <summary>
/// Serves model ids of the form <c>huggingface/OWNER/REPO/FILE.gguf</c> from the file
/// <c>MODELS/huggingface/OWNER/REPO/FILE.gguf</c>. The engine for a file comes from
/// <paramref name="embeddedEngineFactory"/> (the embedded GGUF engine plugs in there, one engine
/// per file, created on first use); without a factory, or without the file, attempts fail with a
/// message that says what to do.
/// </summary>
public sealed class GgufModelProvider(string modelsDirectory, Func<string, IEngine>? embeddedEngineFactory) : IEngineProvider
{
    private readonly Func<string, IEngine>? _factory = embeddedEngineFactory;
    private readonly ConcurrentDictionary<string, Lazy<IEngine>> _engines = new(StringComparer.Ordinal);

    public string ModelsDirectory { get; } = Path.GetFullPath(modelsDirectory);

    public bool TryResolve(string modelId, out IEngine engine)
    {
        engine = null!;
        if (!TryGetPath(modelId, out var path)) return false;
        engine = new FileModelEngine(this, modelId, path);
        return true;
    }

    /// <summary>The file a model id names, if the id is well formed (no path tricks).</summary>
    public bool TryGetPath(string modelId, out string path)
    {
        path = "";
        var parts = modelId.Split('/');
        if (parts.Length != 4 || parts[0] != "huggingface" || !parts[3].EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) return false;
        foreach (var part in parts)
        {
            if (part.Length == 0 || part.Length > 200 || part is "." or "..") return false;
            foreach (var c in part)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) return false;
            }
        }
        path = Path.Combine(ModelsDirectory, parts[0], parts[1], parts[2], parts[3]);
        return true;
    }

    /// <summary>The model ids of the GGUF files present, sorted.</summary>
    public IReadOnlyList<string> ListPresent()
    {
        var root = Path.Combine(ModelsDirectory, "huggingface");
        if (!Directory.Exists(root)) return [];
        var ids = new List<string>();
        foreach (var file in Directory.EnumerateFiles(root, "*.gguf", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(ModelsDirectory, file).Replace(Path.DirectorySeparatorChar, '/');
            if (TryGetPath(rel, out _)) ids.Add(rel);
        }
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    /// <summary>Resolves the file when an attempt starts, so a model pulled after startup is found.</summary>
    private sealed class FileModelEngine(GgufModelProvider owner, string modelId, string path) : IEngine
    {
        public IAsyncEnumerable<EngineChunk> GenerateAsync(EngineRequest request, CancellationToken cancellationToken)
        {
            if (!File.Exists(path))
                throw new EngineException(
                    $"model '{modelId}' is not installed: run `promptd models pull {modelId}` or copy the GGUF file to {path}",
                    retryable: false);
            if (owner._factory is not { } factory)
                throw new EngineException("the embedded GGUF engine is not available in this build; use a diagnostic or upstream model", retryable: false);
            var engine = owner._engines.GetOrAdd(path, p => new Lazy<IEngine>(() => factory(p))).Value;
            return engine.GenerateAsync(request, cancellationToken);
        }
    }
}

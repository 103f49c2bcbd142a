using Promptd.Core.Engines.Embedded;
using Promptd.Core.Models;

namespace Promptd.Core.Engines.Resolution;

/// <summary>
/// Serves model ids that name GGUF files in the models folder (<c>huggingface/OWNER/REPO/FILE.gguf</c>
/// ↔ <c>DATA/models/huggingface/OWNER/REPO/FILE.gguf</c>, by <see cref="ModelId"/>'s rules) through
/// one embedded engine, so every local model shares one memory budget. The file is looked up when
/// an attempt starts, so a model pulled after start-up is found; a missing file fails the attempt
/// with a message that says how to get it.
/// </summary>
public sealed class GgufModelProvider(ModelsFolder folder, EmbeddedEngine engine) : IEngineProvider
{
    public ModelsFolder Folder { get; } = folder;

    public EmbeddedEngine Engine { get; } = engine;

    public bool TryResolve(string modelId, out IEngine engine)
    {
        engine = Engine;
        return ModelId.TryParse(modelId, out _, out _);
    }

    /// <summary>The model ids of the GGUF files present, sorted.</summary>
    public IReadOnlyList<string> ListPresent()
    {
        var installed = Folder.List();
        var ids = new string[installed.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = installed[i].Id.Value;
        return ids;
    }
}

using System.Security.Cryptography;
using System.Text;

namespace Promptd.Core.Models;

/// <summary>
/// The models folder, DATA/models: model <c>huggingface/OWNER/REPO/FILE.gguf</c> is the file
/// <c>DATA/models/huggingface/OWNER/REPO/FILE.gguf</c>. Only complete, verified files carry the
/// .gguf name; a download in progress is FILE.gguf.part. Pulls coordinate through lock files in
/// DATA/models/.locks, which are never deleted (deleting a lock file races with its next taker).
/// </summary>
public sealed class ModelsFolder
{
    public const string PartSuffix = ".part";

    public ModelsFolder(string root) => Root = Path.GetFullPath(root);

    /// <summary>The folder for data directory <paramref name="dataDirectory"/> (its "models" subfolder).</summary>
    public static ModelsFolder ForDataDirectory(string dataDirectory) => new(Path.Combine(dataDirectory, "models"));

    public string Root { get; }

    /// <summary>Where the model's file is (or will be) installed.</summary>
    public string PathOf(ModelId id)
    {
        var path = Path.GetFullPath(Path.Combine([Root, .. id.Segments]));
        // ModelId already refuses anything that could escape; this guards against a future change there.
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidModelIdException("model id resolves outside the models folder");
        return path;
    }

    /// <summary>The lock file that serializes pulls of <paramref name="id"/> across processes.</summary>
    public string LockPathOf(ModelId id) =>
        Path.Combine(Root, ".locks", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id.Value))) + ".lock");

    public bool IsInstalled(ModelId id) => File.Exists(PathOf(id));

    /// <summary>The installed models, by id. Files whose path is not a valid model id are not listed.</summary>
    public IReadOnlyList<InstalledModel> List()
    {
        var result = new List<InstalledModel>();
        var source = Path.Combine(Root, ModelId.HuggingFace);
        if (!Directory.Exists(source)) return result;
        var options = new EnumerationOptions { RecurseSubdirectories = true, MatchCasing = MatchCasing.CaseInsensitive, IgnoreInaccessible = true };
        foreach (var file in Directory.EnumerateFiles(source, "*.gguf", options))
        {
            var relative = Path.GetRelativePath(Root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!ModelId.TryParse(relative, out var id, out _)) continue;
            var info = Promptd.Inference.Gguf.GgufFile.ResolveFile(file);
            if (!info.Exists) continue; // a broken link
            result.Add(new InstalledModel(id, file, info.Length, info.LastWriteTimeUtc));
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Id.Value, b.Id.Value));
        return result;
    }
}

public sealed record InstalledModel(ModelId Id, string Path, long SizeBytes, DateTime ModifiedUtc);

using Promptd.Inference.Gguf;

namespace Promptd.Inference.Synthetic;

/// <summary>
/// Synthetic models for benchmarks, written once and kept: writing a 1.1B-parameter K-quant model
/// takes minutes. Files are named by shape, type and seed, written under a temporary name and
/// renamed, so an interrupted write never leaves a file that looks finished.
/// </summary>
public static class SyntheticModelCache
{
    /// <summary>~/.cache/promptd/bench, or $XDG_CACHE_HOME/promptd/bench.</summary>
    public static string DefaultDirectory
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "promptd", "bench");
        }
    }

    /// <summary>The path of the named shape in <paramref name="type"/>, written first if it is not there yet.</summary>
    public static string GetOrCreate(string shape, GgmlType type, int seed, string directory, Action<string>? progress = null)
    {
        if (!SyntheticModelSpec.Named.TryGetValue(shape, out var spec))
            throw new ArgumentException($"unknown synthetic shape '{shape}' (known: {string.Join(", ", SyntheticModelSpec.Named.Keys)})", nameof(shape));
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $"{shape.ToLowerInvariant()}-{GgmlTypeInfo.Name(type).ToLowerInvariant()}-seed{seed}.gguf");
        if (File.Exists(path)) return path;
        progress?.Invoke($"writing {path} (once; later runs reuse it)");
        string temporary = path + $".{Environment.ProcessId}.partial";
        try
        {
            SyntheticModel.Write(temporary, spec with { WeightType = type, Seed = seed });
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
        return path;
    }
}

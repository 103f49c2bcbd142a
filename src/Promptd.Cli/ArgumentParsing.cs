using System.Globalization;
using Promptd.Inference.Models;

namespace Promptd.Cli;

/// <summary>Values that several commands parse the same way; mistakes become <see cref="UsageException"/>s.</summary>
internal static class ArgumentParsing
{
    /// <summary>"1,50,100" → ids; anything but non-negative integers separated by commas is a usage error.</summary>
    public static int[] TokenIds(string option, string csv)
    {
        var parts = csv.Split(',', StringSplitOptions.TrimEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
                throw new UsageException($"{option}: '{parts[i]}' is not a token id (expected non-negative integers separated by commas)");
        }
        return ids;
    }

    public static KvCacheType KvCache(string value) => value.ToLowerInvariant() switch
    {
        "f16" => KvCacheType.F16,
        "f32" => KvCacheType.F32,
        _ => throw new UsageException($"--kv must be f32 or f16, not '{value}'"),
    };
}

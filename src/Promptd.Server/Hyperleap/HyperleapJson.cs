using System.Text.Json;
using Promptd.Core;

namespace Promptd.Server.Hyperleap;

/// <summary>Strict reading of the dialect's request members: every mistake is a 400 naming the member.</summary>
internal static class HyperleapJson
{
    /// <summary>Refuses members outside <paramref name="allowed"/> (a typo such as <c>max_tokens</c> should not be silently ignored).</summary>
    public static void OnlyMembers(JsonElement obj, string where, params string[] allowed)
    {
        foreach (var p in obj.EnumerateObject())
        {
            if (Array.IndexOf(allowed, p.Name) >= 0) continue;
            var name = p.Name.Length > 64 ? p.Name[..64] + "…" : p.Name;
            var hint = Array.Find(allowed, a => string.Equals(a, CamelCase(p.Name), StringComparison.Ordinal));
            throw DomainException.Invalid($"{where}unknown member '{name}'" + (hint is null ? "" : $" (did you mean '{hint}'?)"));
        }
    }

    public static Guid RequiredGuid(JsonElement obj, string name) =>
        OptionalGuid(obj, name) ?? throw DomainException.Invalid($"{name} is required");

    public static Guid? OptionalGuid(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String && Guid.TryParseExact(v.GetString(), "D", out var id)
            ? id
            : throw DomainException.Invalid($"{name} must be a UUID like 3c90c3cc-0d44-4b50-8888-8dd25736052a");
    }

    /// <summary>A UUID from a URL segment; anything else names nothing, so it is a 404 like an unknown id.</summary>
    public static Guid PathGuid(string text, string what) =>
        Guid.TryParseExact(text, "D", out var id) ? id : throw DomainException.NotFound($"{what} '{(text.Length > 64 ? text[..64] + "…" : text)}' not found");

    public static float? OptionalFloat(JsonElement obj, string name, string where)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d)) throw DomainException.Invalid($"{where}{name} must be a number");
        return (float)d;
    }

    public static int? OptionalInt(JsonElement obj, string name, string where)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : throw DomainException.Invalid($"{where}{name} must be an integer");
    }

    public static JsonElement? OptionalArray(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Array ? v : throw DomainException.Invalid($"{name} must be an array");
    }

    /// <summary>An array of strings (or one string), e.g. labels or stop sequences.</summary>
    public static List<string> StringList(JsonElement? value, string name, bool allowSingle = false)
    {
        var list = new List<string>();
        if (value is not { } v || v.ValueKind == JsonValueKind.Null) return list;
        if (allowSingle && v.ValueKind == JsonValueKind.String)
        {
            list.Add(v.GetString()!);
            return list;
        }
        if (v.ValueKind != JsonValueKind.Array) throw DomainException.Invalid($"{name} must be an array of strings");
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw DomainException.Invalid($"{name} must be an array of strings");
            list.Add(item.GetString()!);
        }
        return list;
    }

    private static string CamelCase(string snake)
    {
        var parts = snake.Split('_', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) return snake;
        var result = parts[0].ToLowerInvariant();
        for (var i = 1; i < parts.Length; i++) result += char.ToUpperInvariant(parts[i][0]) + parts[i][1..].ToLowerInvariant();
        return result;
    }
}

namespace Promptd.Core.Models;

/// <summary>
/// A model's name, <c>huggingface/OWNER/REPO/FILE.gguf</c> (FILE may sit in folders of the repo:
/// <c>huggingface/OWNER/REPO/Q4_K_M/FILE.gguf</c>). It doubles as the file's path under the models
/// folder, so it is parsed strictly: no "..", no absolute paths, no backslashes, no empty segments,
/// and only the characters Hugging Face allows in names.
/// </summary>
public sealed partial class ModelId : IEquatable<ModelId>
{
    public const string HuggingFace = "huggingface";
    public const int MaxLength = 512;
    private const int MaxNameLength = 96; // Hugging Face's limit for owner and repository names

    private readonly string[] _segments;

    private ModelId(string value, string[] segments)
    {
        Value = value;
        _segments = segments;
    }

    /// <summary>The id as written, e.g. "huggingface/TheBloke/Mistral-7B-Instruct-v0.2-GGUF/mistral-7b-instruct-v0.2.Q3_K_S.gguf".</summary>
    public string Value { get; }

    public string Source => _segments[0];
    public string Owner => _segments[1];
    public string Repository => _segments[2];

    /// <summary>The file's path inside the repository, '/'-separated.</summary>
    public string FilePath => string.Join('/', _segments, 3, _segments.Length - 3);

    /// <summary>The segments, source first; each is a safe file or folder name.</summary>
    public IReadOnlyList<string> Segments => _segments;

    /// <summary>Parses <paramref name="value"/> or throws <see cref="InvalidModelIdException"/> saying what is wrong.</summary>
    public static ModelId Parse(string? value) =>
        TryParse(value, out var id, out var error) ? id : throw new InvalidModelIdException(error);

    public static bool TryParse(string? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ModelId? id, out string error)
    {
        id = null;
        error = Check(value) ?? "";
        if (error.Length > 0) return false;
        id = new ModelId(value!, value!.Split('/'));
        return true;
    }

    private static string? Check(string? value)
    {
        const string shape = "expected huggingface/OWNER/REPO/FILE.gguf";
        if (string.IsNullOrWhiteSpace(value)) return $"model id is empty; {shape}";
        if (value.Length > MaxLength) return $"model id is longer than {MaxLength} characters";
        if (value.Contains('\\')) return "model id must use '/' between its parts, not '\\'";
        if (value[0] == '/' || value[0] == '~' || (value.Length > 1 && value[1] == ':'))
            return $"model id must not be an absolute path; {shape}";
        var segments = value.Split('/');
        foreach (var s in segments)
        {
            if (s.Length == 0) return "model id has an empty part ('//' or a '/' at an end)";
            if (s is "." or "..") return "model id must not contain '.' or '..' parts";
            if (s[0] == '.') return "model id parts must not start with '.'";
            foreach (char c in s)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '+'))
                    return $"model id contains '{(char.IsControl(c) ? '?' : c)}'; only letters, digits and - _ . + are allowed";
            }
        }
        if (segments[0] != HuggingFace)
            return $"unsupported model source '{segments[0]}'; {shape}";
        if (segments.Length == 3 && segments[2].EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            return MissingRepository(segments[1], segments[2]);
        if (segments.Length < 4) return $"model id is incomplete; {shape}";
        if (segments[1].Length > MaxNameLength || segments[2].Length > MaxNameLength)
            return $"model id owner or repository is longer than {MaxNameLength} characters";
        if (!segments[^1].EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            return "model id must name a .gguf file";
        return null;
    }

    /// <summary>
    /// For ids written OWNER/FILE.gguf (as in older docs: huggingface/TheBloke/mistral-7b-instruct-v0.2.Q3_K_S.gguf):
    /// a file on Hugging Face always sits in a repository, and guessing which one would download the
    /// wrong file or none, so the error shows the full form with the usual repository name to check.
    /// </summary>
    private static string MissingRepository(string owner, string file)
    {
        var stem = file[..^".gguf".Length];
        var quant = QuantSuffix().Match(stem);
        var repo = (quant.Success ? stem[..quant.Index] : stem) + "-GGUF";
        return $"model id has no repository part; expected huggingface/OWNER/REPO/FILE.gguf, " +
               $"e.g. huggingface/{owner}/{repo}/{file} (check the repository's name on Hugging Face)";
    }

    /// <summary>The quantization at the end of a GGUF file's name: ".Q3_K_S", "-Q8_0", "-IQ2_XS", ".f16"…</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"[.-](I?Q[0-9][A-Za-z0-9_]*|[Ff]16|[Ff]32|[Bb][Ff]16)$")]
    private static partial System.Text.RegularExpressions.Regex QuantSuffix();

    public bool Equals(ModelId? other) => other is not null && Value == other.Value;
    public override bool Equals(object? obj) => obj is ModelId other && Equals(other);
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);
    public override string ToString() => Value;
}

/// <summary>A malformed or unsafe model id; the message says what is wrong (a 400 over HTTP).</summary>
public sealed class InvalidModelIdException(string message) : ArgumentException(message);

namespace Promptd.Inference.Gguf;

/// <summary>
/// The key/value metadata of a GGUF file. Scalars are stored as their CLR type (uint, float, string…);
/// arrays as typed arrays (string[], float[], int[]…), nested arrays as object[].
/// </summary>
public sealed class GgufMetadata
{
    private readonly Dictionary<string, object> _values;
    private readonly Dictionary<string, GgufValueType> _types;

    public GgufMetadata() : this(new Dictionary<string, object>(StringComparer.Ordinal), new Dictionary<string, GgufValueType>(StringComparer.Ordinal)) { }

    internal GgufMetadata(Dictionary<string, object> values, Dictionary<string, GgufValueType> types)
    {
        _values = values;
        _types = types;
    }

    public IReadOnlyDictionary<string, object> Values => _values;

    /// <summary>The GGUF type a key was stored with (for arrays: Array).</summary>
    public GgufValueType TypeOf(string key) => _types[key];

    public bool Contains(string key) => _values.ContainsKey(key);

    public object? Get(string key) => _values.GetValueOrDefault(key);

    public void Set(string key, object value, GgufValueType type)
    {
        _values[key] = value;
        _types[key] = type;
    }

    public string? GetString(string key) => Get(key) as string;

    public string GetRequiredString(string key) =>
        GetString(key) ?? throw new InvalidDataException($"metadata key '{key}' is missing or not a string");

    /// <summary>Any integer type widened to long; null when absent or not an integer.</summary>
    public long? GetInteger(string key) => AsInteger(Get(key));

    /// <summary>A boxed integer of any GGUF integer type (or bool) widened to long; null for anything else.</summary>
    public static long? AsInteger(object? value) => value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        ulong v => v > long.MaxValue ? null : (long)v,
        long v => v,
        bool v => v ? 1 : 0,
        _ => null,
    };

    public long GetRequiredInteger(string key) =>
        GetInteger(key) ?? throw new InvalidDataException($"metadata key '{key}' is missing or not an integer");

    /// <summary>Any numeric type as double; null when absent or not numeric.</summary>
    public double? GetNumber(string key) => Get(key) switch
    {
        float v => v,
        double v => v,
        _ => GetInteger(key),
    };

    public bool? GetBool(string key) => Get(key) switch
    {
        bool v => v,
        _ => GetInteger(key) is long i ? i != 0 : null,
    };

    public T[]? GetArray<T>(string key) => Get(key) as T[];
}

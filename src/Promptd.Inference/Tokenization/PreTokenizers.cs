namespace Promptd.Inference.Tokenization;

/// <summary>
/// The pre-tokenizers of the model families, by the name GGUF stores in <c>tokenizer.ggml.pre</c>.
/// The regexes are the ones the families' tokenizer.json define, in the form llama.cpp
/// (src/llama-vocab.cpp) applies them; the flags follow llama.cpp's vocabulary loader. Non-ASCII
/// characters are escaped (\uXXXX, \UXXXXXXXX for astral) so that no editor can normalize them.
/// </summary>
public static class PreTokenizers
{
    private const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";
    private const string Llama3 = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2 = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Bloom = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";

    private static readonly string[] DefaultPatterns =
    [
        @"[\p{P}\$\+<=>\^~\|]+",
        Gpt2,
        @"\p{N}+",
        @"[0-9][0-9][0-9]",
    ];

    private static readonly string[] StarcoderPatterns = [@"\p{N}", Gpt2];

    private static readonly string[] DeepseekLlmPatterns =
    [
        @"[\r\n]",
        "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+",
        "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+",
        @"\s+$",
        "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
        @"\p{N}+",
    ];

    private static readonly string[] DeepseekCoderPatterns =
    [
        @"[\r\n]",
        @"\s?\p{L}+",
        @"\s?\p{P}+",
        "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
        @"\p{N}",
    ];

    private static readonly string[] DeepseekV3Patterns =
    [
        @"\p{N}{1,3}",
        "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
        @"[!""#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ];

    private static readonly string[] FalconPatterns =
    [
        @"[\p{P}\$\+<=>\^~\|`]+",
        Gpt2,
        @"[0-9][0-9][0-9]",
    ];

    private static readonly string[] TekkenPatterns =
    [
        @"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ];

    private static readonly string[] ChameleonPatterns =
    [
        @"<sentinel:[0-9]+>",
        @"(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
        @"([\t\n]|    |  )",
        @"\p{N}",
        @"[\p{P}!-/:-@\[-`{-~]",
        Gpt2,
    ];

    /// <summary>Canonical name, the GGUF names that select it, and how to build it.</summary>
    private static readonly (string Name, string[] Aliases, Func<PreTokenizer> Create)[] Families =
    [
        ("default", ["default"], () => new("default", DefaultPatterns, cleanSpaces: true)),
        ("llama3", ["llama3", "llama-v3", "llama-bpe", "falcon3"], () => new("llama3", [Llama3], cleanSpaces: true, ignoreMerges: true, addBos: true)),
        ("dbrx", ["dbrx", "smaug-bpe", "chatglm-bpe"], () => new("dbrx", [Llama3], cleanSpaces: true)),
        ("deepseek-llm", ["deepseek-llm"], () => new("deepseek-llm", DeepseekLlmPatterns, cleanSpaces: false)),
        ("deepseek-coder", ["deepseek-coder"], () => new("deepseek-coder", DeepseekCoderPatterns, cleanSpaces: false)),
        ("deepseek-v3", ["deepseek-v3"], () => new("deepseek-v3", DeepseekV3Patterns, cleanSpaces: false)),
        ("falcon", ["falcon"], () => new("falcon", FalconPatterns, cleanSpaces: true)),
        ("gpt-2", ["gpt-2", "mpt", "olmo", "jais", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe"],
            () => new("gpt-2", [Gpt2], cleanSpaces: true)),
        ("starcoder", ["starcoder", "refact", "codeshell", "exaone", "minerva-7b"], () => new("starcoder", StarcoderPatterns, cleanSpaces: true)),
        ("command-r", ["command-r", "smollm"], () => new("command-r", StarcoderPatterns, cleanSpaces: false)),
        ("qwen2", ["qwen2", "deepseek-r1-qwen"], () => new("qwen2", [Qwen2], cleanSpaces: false)),
        ("stablelm2", ["stablelm2", "megrez"], () => new("stablelm2", [Qwen2], cleanSpaces: true)),
        ("poro", ["poro-chat"], () => new("poro", [Bloom], cleanSpaces: false)),
        ("bloom", ["bloom", "gpt3-finnish"], () => new("bloom", [Bloom], cleanSpaces: true)),
        ("viking", ["viking"], () => new("viking", [Bloom, @"\p{N}"], cleanSpaces: false)),
        ("tekken", ["tekken"], () => new("tekken", TekkenPatterns, cleanSpaces: false, ignoreMerges: true, addBos: true)),
        ("chameleon", ["chameleon"], () => new("chameleon", ChameleonPatterns, cleanSpaces: false, addBos: true)),
    ];

    private static readonly Dictionary<string, Lazy<PreTokenizer>> ByAlias = BuildIndex();

    /// <summary>Every name <see cref="Resolve"/> recognizes.</summary>
    public static IEnumerable<string> KnownNames => ByAlias.Keys;

    /// <summary>
    /// The pre-tokenizer for a <c>tokenizer.ggml.pre</c> value. A missing or unknown name falls back to
    /// "default" (the generic GPT-2-like split) and <paramref name="warning"/> says so: tokens may then
    /// differ from the model's own tokenizer. Regexes are compiled once per family and shared.
    /// </summary>
    public static PreTokenizer Resolve(string? name, out string? warning)
    {
        if (string.IsNullOrEmpty(name))
        {
            warning = "tokenizer.ggml.pre is missing: using the 'default' pre-tokenizer; tokenization may differ from the model's (regenerate the GGUF with a current converter)";
            return ByAlias["default"].Value;
        }
        if (ByAlias.TryGetValue(name, out var known))
        {
            warning = null;
            return known.Value;
        }
        warning = $"unknown pre-tokenizer '{name}': using the 'default' pre-tokenizer; tokenization may differ from the model's";
        return ByAlias["default"].Value;
    }

    private static Dictionary<string, Lazy<PreTokenizer>> BuildIndex()
    {
        var index = new Dictionary<string, Lazy<PreTokenizer>>(StringComparer.Ordinal);
        foreach (var (_, aliases, create) in Families)
        {
            var shared = new Lazy<PreTokenizer>(create, LazyThreadSafetyMode.ExecutionAndPublication);
            foreach (var alias in aliases) index.Add(alias, shared);
        }
        return index;
    }
}

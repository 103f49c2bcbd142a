using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tokenization;

/// <summary>Reads <c>tokenizer.ggml.*</c> metadata into a <see cref="Vocabulary.VocabularyData"/>.</summary>
internal static class VocabularyLoader
{
    private const string Prefix = "tokenizer.ggml.";

    /// <summary>Texts llama.cpp treats as end of generation whatever the metadata says.</summary>
    private static readonly string[] EndOfGenerationTexts =
        ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>"];

    /// <summary>Texts that identify the end-of-turn token when the metadata names none, most specific first.</summary>
    private static readonly string[] EndOfTurnTexts =
        ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>"];

    private static readonly string[] FimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<PAD>"];
    private static readonly string[] FimRepoTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"];
    private static readonly string[] FimSeparatorTexts = ["<|file_sep|>"];

    public static Vocabulary.VocabularyData Load(GgufMetadata md)
    {
        var d = new Vocabulary.VocabularyData();
        string model = md.GetString(Prefix + "model")
            ?? throw new InvalidDataException("the model has no tokenizer (metadata key 'tokenizer.ggml.model' is missing)");
        d.Kind = model switch
        {
            "llama" => VocabularyKind.SentencePiece,
            "gpt2" => VocabularyKind.BytePairEncoding,
            _ => throw new InvalidDataException($"tokenizer model '{model}' is not supported (supported: llama, gpt2)"),
        };
        d.ModelName = md.GetString("general.name");
        d.ChatTemplate = md.GetString("tokenizer.chat_template");

        ReadTokens(md, d);
        bool spm = d.Kind == VocabularyKind.SentencePiece;
        if (!spm)
        {
            d.PreTokenizer = PreTokenizers.Resolve(md.GetString(Prefix + "pre"), out var warning);
            if (warning is not null) d.Warnings.Add(warning);
            d.Merges = md.GetArray<string>(Prefix + "merges")
                ?? throw new InvalidDataException("BPE tokenizer without merges (metadata key 'tokenizer.ggml.merges' is missing or not a string array)");
        }

        d.AddSpacePrefix = md.GetBool(Prefix + "add_space_prefix") ?? spm;
        d.CleanSpaces = d.PreTokenizer?.CleanSpaces ?? false;
        d.AddBos = md.GetBool(Prefix + "add_bos_token") ?? (spm || d.PreTokenizer!.AddBosByDefault);
        d.AddEos = md.GetBool(Prefix + "add_eos_token") ?? false;

        // SentencePiece files from old converters omit the ids; these are llama.cpp's defaults.
        d.Bos = ReadId(md, d, "bos_token_id", spm ? 1 : null);
        d.Eos = ReadId(md, d, "eos_token_id", spm ? 2 : null);
        d.Unknown = ReadId(md, d, "unknown_token_id", spm ? 0 : null);
        d.Eot = ReadId(md, d, "eot_token_id", null);
        d.Eom = ReadId(md, d, "eom_token_id", null);
        d.Padding = ReadId(md, d, "padding_token_id", null);
        // llama.cpp's converters spell this key "seperator"; accept the correct spelling too.
        d.Separator = md.Contains(Prefix + "seperator_token_id")
            ? ReadId(md, d, "seperator_token_id", null)
            : ReadId(md, d, "separator_token_id", null);

        FindEndOfGeneration(md, d);
        ApplyFamilyAttributes(md, d);
        d.SpecialTokens = SpecialTokensLongestFirst(d);
        return d;
    }

    private static void ReadTokens(GgufMetadata md, Vocabulary.VocabularyData d)
    {
        var texts = md.GetArray<string>(Prefix + "tokens")
            ?? throw new InvalidDataException("the tokenizer has no tokens (metadata key 'tokenizer.ggml.tokens' is missing or not a string array)");
        if (texts.Length == 0) throw new InvalidDataException("the tokenizer has an empty token list");
        int n = texts.Length;

        var scores = md.Get(Prefix + "scores") switch
        {
            null => new float[n],
            float[] f when f.Length == n => f,
            _ => throw new InvalidDataException($"tokenizer.ggml.scores must be {n} float32 values, one per token"),
        };
        var types = ReadIntegers(md, Prefix + "token_type", n);

        texts = (string[])texts.Clone();
        var attributes = new TokenAttributes[n];
        var idByText = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            // An empty text would match everywhere when splitting special tokens; llama.cpp renames it too.
            if (texts[i].Length == 0)
            {
                texts[i] = $"[EMPTY_{i}]";
                d.Warnings.Add($"token {i} has an empty text; renamed {texts[i]}");
            }
            if (!idByText.TryAdd(texts[i], i))
                d.Warnings.Add($"token {i} repeats the text of token {idByText[texts[i]]}; lookups by text find the first");
            attributes[i] = types is null ? TokenAttributes.Normal : FromGgufType(types[i]);
        }
        d.Texts = texts;
        d.Scores = scores;
        d.Attributes = attributes;
        d.IdByText = idByText;
    }

    /// <summary>GGUF token_type values (llama_token_type) as attributes.</summary>
    private static TokenAttributes FromGgufType(long type) => type switch
    {
        1 => TokenAttributes.Normal,
        2 => TokenAttributes.Unknown,
        3 => TokenAttributes.Control,
        4 => TokenAttributes.UserDefined,
        5 => TokenAttributes.Unused,
        6 => TokenAttributes.Byte,
        _ => TokenAttributes.Undefined,
    };

    private static long[]? ReadIntegers(GgufMetadata md, string key, int expected)
    {
        long[]? values = md.Get(key) switch
        {
            null => null,
            int[] a => Array.ConvertAll(a, v => (long)v),
            uint[] a => Array.ConvertAll(a, v => (long)v),
            short[] a => Array.ConvertAll(a, v => (long)v),
            ushort[] a => Array.ConvertAll(a, v => (long)v),
            sbyte[] a => Array.ConvertAll(a, v => (long)v),
            byte[] a => Array.ConvertAll(a, v => (long)v),
            long[] a => a,
            _ => throw new InvalidDataException($"{key} must be an integer array"),
        };
        if (values is not null && values.Length != expected)
            throw new InvalidDataException($"{key} has {values.Length} entries for {expected} tokens");
        return values;
    }

    /// <summary>
    /// A special token id. Converters write 4294967295 (uint32 -1) for "none"; any other id outside
    /// the vocabulary is reported and ignored, falling back to the default.
    /// </summary>
    private static int? ReadId(GgufMetadata md, Vocabulary.VocabularyData d, string name, int? fallback)
    {
        int n = d.Texts.Length;
        int? Default() => fallback is int f && f < n ? f : null;
        string key = Prefix + name;
        if (!md.Contains(key)) return Default();
        long? value = md.GetInteger(key);
        if (value is 0xFFFFFFFF or -1) return null;
        if (value is long v && v >= 0 && v < n) return (int)v;
        d.Warnings.Add($"{key} = {md.Get(key)} is not a token id (vocabulary has {n}); ignored");
        return Default();
    }

    private static void FindEndOfGeneration(GgufMetadata md, Vocabulary.VocabularyData d)
    {
        d.Eot ??= FindByText(d, EndOfTurnTexts, forceControl: true);
        d.Eom ??= FindByText(d, ["<|eom_id|>"], forceControl: true);
        int? fimPad = ReadId(md, d, "fim_pad_token_id", null) ?? FindByText(d, FimPadTexts, forceControl: true);
        int? fimRepo = ReadId(md, d, "fim_rep_token_id", null) ?? FindByText(d, FimRepoTexts, forceControl: true);
        int? fimSeparator = ReadId(md, d, "fim_sep_token_id", null) ?? FindByText(d, FimSeparatorTexts, forceControl: true);

        var eog = new bool[d.Texts.Length];
        foreach (var text in EndOfGenerationTexts)
        {
            if (d.IdByText.TryGetValue(text, out int id))
            {
                eog[id] = true;
                d.Attributes[id] |= TokenAttributes.Control;
            }
        }
        foreach (var id in new[] { d.Eos, d.Eot, d.Eom, fimPad, fimRepo, fimSeparator })
        {
            if (id is int i) eog[i] = true;
        }
        d.EndOfGeneration = eog;
    }

    /// <summary>The first of <paramref name="texts"/> the vocabulary holds; such tokens are control tokens.</summary>
    private static int? FindByText(Vocabulary.VocabularyData d, string[] texts, bool forceControl)
    {
        foreach (var text in texts)
        {
            if (!d.IdByText.TryGetValue(text, out int id)) continue;
            if (forceControl && (d.Attributes[id] & TokenAttributes.Control) == 0)
            {
                d.Attributes[id] |= TokenAttributes.Control;
                d.Warnings.Add($"token {id} '{text}' looks like a control token but is not typed as one; treated as control");
            }
            return id;
        }
        return null;
    }

    /// <summary>Per-family token attributes GGUF does not carry (llama.cpp sets them by model name).</summary>
    private static void ApplyFamilyAttributes(GgufMetadata md, Vocabulary.VocabularyData d)
    {
        string pre = md.GetString(Prefix + "pre") ?? "";
        string name = (d.ModelName ?? "").ToLowerInvariant();
        if (pre is "jina-v2-de" or "jina-v2-es" or "jina-v2-code")
        {
            SetFlag(d, "<mask>", TokenAttributes.LStrip, true);
        }
        else if (name.Contains("phi-3", StringComparison.Ordinal) || name.Contains("phi3", StringComparison.Ordinal))
        {
            // Phi-3's special tokens swallow the white space after them ("<|user|>\n" is one token plus text).
            for (int id = 0; id < d.Attributes.Length; id++)
            {
                if (IsSpecial(d.Attributes[id])) d.Attributes[id] |= TokenAttributes.RStrip;
            }
            SetFlag(d, "</s>", TokenAttributes.RStrip, true);
            foreach (var text in new[] { "<unk>", "<s>", "<|endoftext|>" }) SetFlag(d, text, TokenAttributes.RStrip, false);
        }
    }

    private static void SetFlag(Vocabulary.VocabularyData d, string text, TokenAttributes flag, bool on)
    {
        if (!d.IdByText.TryGetValue(text, out int id)) return;
        d.Attributes[id] = on ? d.Attributes[id] | flag : d.Attributes[id] & ~flag;
    }

    internal static bool IsSpecial(TokenAttributes a) =>
        (a & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) != 0;

    private static int[] SpecialTokensLongestFirst(Vocabulary.VocabularyData d)
    {
        var ids = new List<int>();
        for (int id = 0; id < d.Attributes.Length; id++)
        {
            if (IsSpecial(d.Attributes[id])) ids.Add(id);
        }
        // Longest in UTF-8 bytes as llama.cpp orders them; ties by id so the order is deterministic.
        var bytes = ids.ConvertAll(id => System.Text.Encoding.UTF8.GetByteCount(d.Texts[id]));
        var order = Enumerable.Range(0, ids.Count).ToArray();
        Array.Sort(order, (x, y) => bytes[x] != bytes[y] ? bytes[y].CompareTo(bytes[x]) : ids[x].CompareTo(ids[y]));
        return Array.ConvertAll(order, i => ids[i]);
    }
}

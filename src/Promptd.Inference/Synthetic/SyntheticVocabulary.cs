using Promptd.Inference.Gguf;

namespace Promptd.Inference.Synthetic;

/// <summary>
/// Small tokenizer vocabularies for synthetic models, written as GGUF tokenizer metadata: a
/// SentencePiece-style one (llama) with byte fallback tokens, and a byte-level BPE one (gpt2, as
/// Qwen2 uses) with a few merges and ChatML special tokens.
/// </summary>
public static class SyntheticVocabulary
{
    private static readonly string[] Words = ["the", "a", "and", "to", "of", "Hello", "world", "is", "in", "it", "you", "that", "he", "was", "for", "on", "are", "with", "as", "I"];

    // llama.cpp token types.
    private const int Normal = 1, Unknown = 2, Control = 3, Byte = 6;

    /// <summary>&lt;unk&gt; &lt;s&gt; &lt;/s&gt;, the 256 byte tokens &lt;0xNN&gt;, then ▁-prefixed words and fillers.</summary>
    public static void WriteSentencePiece(GgufWriter writer, int vocabSize)
    {
        const int specials = 3, bytes = 256;
        if (vocabSize < specials + bytes) throw new ArgumentOutOfRangeException(nameof(vocabSize), $"a SentencePiece vocabulary with byte fallback needs at least {specials + bytes} tokens");
        var tokens = new string[vocabSize];
        var scores = new float[vocabSize];
        var types = new int[vocabSize];
        (tokens[0], types[0]) = ("<unk>", Unknown);
        (tokens[1], types[1]) = ("<s>", Control);
        (tokens[2], types[2]) = ("</s>", Control);
        for (int b = 0; b < bytes; b++) (tokens[specials + b], types[specials + b]) = ($"<0x{b:X2}>", Byte);
        for (int i = specials + bytes; i < vocabSize; i++)
        {
            int k = i - specials - bytes;
            tokens[i] = k < Words.Length ? "\u2581" + Words[k] : $"\u2581tok{k}";
            scores[i] = -k;
            types[i] = Normal;
        }
        writer.Set("tokenizer.ggml.model", "llama")
            .Set("tokenizer.ggml.tokens", tokens)
            .Set("tokenizer.ggml.scores", scores)
            .Set("tokenizer.ggml.token_type", types)
            .Set("tokenizer.ggml.unknown_token_id", 0u)
            .Set("tokenizer.ggml.bos_token_id", 1u)
            .Set("tokenizer.ggml.eos_token_id", 2u)
            .Set("tokenizer.ggml.add_bos_token", true)
            .Set("tokenizer.ggml.add_eos_token", false);
    }

    /// <summary>The 256 byte characters of GPT-2's byte-to-unicode map, merges building a few words, fillers, then &lt;|endoftext|&gt; &lt;|im_start|&gt; &lt;|im_end|&gt;.</summary>
    public static void WriteBytePairEncoding(GgufWriter writer, int vocabSize)
    {
        string[] specialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
        if (vocabSize < 256 + specialTokens.Length) throw new ArgumentOutOfRangeException(nameof(vocabSize), $"a byte-level BPE vocabulary needs at least {256 + specialTokens.Length} tokens");
        var tokens = new List<string>(vocabSize);
        for (int b = 0; b < 256; b++) tokens.Add(ByteToUnicode((byte)b).ToString());

        // Merges that build "Ġword" left to right, as long as room is left for the specials.
        var merges = new List<string>();
        var known = new HashSet<string>(tokens);
        foreach (string word in Words)
        {
            string current = "\u0120" + word[0];
            string left = "\u0120", right = word[0].ToString();
            for (int i = 0; ; i++)
            {
                if (!known.Contains(current))
                {
                    if (tokens.Count >= vocabSize - specialTokens.Length) break;
                    merges.Add($"{left} {right}");
                    tokens.Add(current);
                    known.Add(current);
                }
                if (i + 1 >= word.Length) break;
                (left, right) = (current, word[i + 1].ToString());
                current += word[i + 1];
            }
        }
        while (tokens.Count < vocabSize - specialTokens.Length) tokens.Add($"\u0120filler{tokens.Count}");
        tokens.AddRange(specialTokens);

        var types = new int[vocabSize];
        for (int i = 0; i < vocabSize; i++) types[i] = i >= vocabSize - specialTokens.Length ? Control : Normal;
        uint endOfText = (uint)(vocabSize - specialTokens.Length);
        writer.Set("tokenizer.ggml.model", "gpt2")
            .Set("tokenizer.ggml.pre", "qwen2")
            .Set("tokenizer.ggml.tokens", tokens.ToArray())
            .Set("tokenizer.ggml.token_type", types)
            .Set("tokenizer.ggml.merges", merges.ToArray())
            .Set("tokenizer.ggml.bos_token_id", endOfText)
            .Set("tokenizer.ggml.eos_token_id", endOfText + 2) // <|im_end|>
            .Set("tokenizer.ggml.padding_token_id", endOfText)
            .Set("tokenizer.ggml.add_bos_token", false);
    }

    /// <summary>GPT-2's reversible byte-to-character map: printable bytes map to themselves, the rest to U+0100 onwards.</summary>
    public static char ByteToUnicode(byte b)
    {
        static bool Printable(int c) => c is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        if (Printable(b)) return (char)b;
        int shifted = 0;
        for (int c = 0; c < b; c++)
            if (!Printable(c)) shifted++;
        return (char)(256 + shifted);
    }
}

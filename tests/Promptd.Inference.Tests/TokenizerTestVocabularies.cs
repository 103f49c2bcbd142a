using Promptd.Inference.Gguf;
using Promptd.Inference.Tokenization;
using Promptd.TestSupport;

namespace Promptd.Inference.Tests;

/// <summary>Small vocabularies built in memory, so tokenizer tests run without the fixtures.</summary>
internal static class TokenizerTestVocabularies
{
    /// <summary>
    /// SentencePiece: 0 &lt;unk&gt;, 1 &lt;s&gt;, 2 &lt;/s&gt;, 3..258 &lt;0x00&gt;..&lt;0xFF&gt;, then the pieces below
    /// (scores fall with the id, so earlier pieces merge first), a control and a user-defined token.
    /// </summary>
    public static readonly string[] SpmPieces = ["▁", "a", "b", "c", "▁a", "ab", "▁ab", "▁abc", "bc", "<|ctl|>", "<usr>"];

    public static GgufMetadata SpmMetadata(Action<GgufMetadata>? adjust = null)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<int> { 2, 3, 3 };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add($"<0x{b:X2}>");
            types.Add(6);
        }
        foreach (var p in SpmPieces)
        {
            tokens.Add(p);
            types.Add(p switch { "<|ctl|>" => 3, "<usr>" => 4, _ => 1 });
        }
        var scores = new float[tokens.Count];
        for (int i = 259; i < scores.Length; i++) scores[i] = -(i - 259);
        var md = new GgufMetadata();
        md.Set("tokenizer.ggml.model", "llama", GgufValueType.String);
        md.Set("tokenizer.ggml.tokens", tokens.ToArray(), GgufValueType.Array);
        md.Set("tokenizer.ggml.scores", scores, GgufValueType.Array);
        md.Set("tokenizer.ggml.token_type", types.ToArray(), GgufValueType.Array);
        md.Set("tokenizer.ggml.bos_token_id", 1u, GgufValueType.UInt32);
        md.Set("tokenizer.ggml.eos_token_id", 2u, GgufValueType.UInt32);
        adjust?.Invoke(md);
        return md;
    }

    public static int SpmId(string piece) => 259 + Array.IndexOf(SpmPieces, piece);

    /// <summary>Byte-level BPE: the 256 byte characters in byte order (id = byte), merges, a control token.</summary>
    public static GgufMetadata BpeMetadata(string? pre = "gpt-2", Action<GgufMetadata>? adjust = null)
    {
        var tokens = new List<string>();
        for (int b = 0; b < 256; b++) tokens.Add(ByteChar(b).ToString());
        string[] merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "Ġwor l", "Ġworl d"];
        foreach (var m in merges) tokens.Add(m.Replace(" ", ""));
        tokens.Add("<|eot|>");
        var types = new int[tokens.Count];
        Array.Fill(types, 1);
        types[^1] = 3;
        var md = new GgufMetadata();
        md.Set("tokenizer.ggml.model", "gpt2", GgufValueType.String);
        if (pre is not null) md.Set("tokenizer.ggml.pre", pre, GgufValueType.String);
        md.Set("tokenizer.ggml.tokens", tokens.ToArray(), GgufValueType.Array);
        md.Set("tokenizer.ggml.token_type", types, GgufValueType.Array);
        md.Set("tokenizer.ggml.merges", merges, GgufValueType.Array);
        md.Set("tokenizer.ggml.eos_token_id", (uint)(tokens.Count - 1), GgufValueType.UInt32);
        adjust?.Invoke(md);
        return md;
    }

    /// <summary>GPT-2's byte-to-character map, written out independently of the tokenizer's.</summary>
    public static char ByteChar(int b)
    {
        bool self = b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        if (self) return (char)b;
        int n = 0;
        for (int x = 0; x < b; x++)
        {
            if (!(x is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF)) n++;
        }
        return (char)(256 + n);
    }

    /// <summary>The tokenizer of a fixture GGUF, e.g. FromFixture("gguf", "tiny-llama-f32.gguf").</summary>
    public static Tokenizer FromFixture(params string[] path)
    {
        using var file = GgufFile.Open(Fixtures.Path(path));
        return Tokenizer.FromGguf(file);
    }

    public static Tokenizer Spm(Action<GgufMetadata>? adjust = null) => new(Vocabulary.FromMetadata(SpmMetadata(adjust)));
    public static Tokenizer Bpe(string? pre = "gpt-2", Action<GgufMetadata>? adjust = null) => new(Vocabulary.FromMetadata(BpeMetadata(pre, adjust)));
}

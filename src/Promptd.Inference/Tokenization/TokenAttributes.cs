namespace Promptd.Inference.Tokenization;

/// <summary>
/// What a token is, as bit flags (llama.cpp's llama_token_attr). GGUF stores one
/// <c>tokenizer.ggml.token_type</c> per token; LStrip/RStrip are derived per model family.
/// </summary>
[Flags]
public enum TokenAttributes
{
    Undefined = 0,
    Unknown = 1 << 0,
    Unused = 1 << 1,
    Normal = 1 << 2,
    Control = 1 << 3,
    UserDefined = 1 << 4,
    Byte = 1 << 5,
    Normalized = 1 << 6,
    /// <summary>When this special token is matched, white space before it is dropped.</summary>
    LStrip = 1 << 7,
    /// <summary>When this special token is matched, white space after it is dropped.</summary>
    RStrip = 1 << 8,
    SingleWord = 1 << 9,
}

/// <summary>The tokenizer algorithm a vocabulary is made for (<c>tokenizer.ggml.model</c>).</summary>
public enum VocabularyKind
{
    /// <summary><c>llama</c>: SentencePiece-style merges by score, byte fallback, ▁ for spaces.</summary>
    SentencePiece,
    /// <summary><c>gpt2</c>: byte-level BPE with ranked merges and a regex pre-tokenizer.</summary>
    BytePairEncoding,
}

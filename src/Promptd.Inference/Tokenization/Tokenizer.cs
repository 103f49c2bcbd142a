using System.Buffers;
using System.Text;
using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tokenization;

/// <summary>How to encode: which special tokens to add (null: the vocabulary's rule) and whether
/// special-token texts in the input become those tokens.</summary>
public readonly record struct EncodeOptions(bool? AddBos = null, bool? AddEos = null, bool ParseSpecial = false)
{
    /// <summary>No BOS/EOS whatever the vocabulary says (llama.cpp's add_special = false).</summary>
    public static EncodeOptions NoSpecialTokens => new(AddBos: false, AddEos: false);
}

/// <summary>How to decode. Nulls take the vocabulary's rule, as llama.cpp's detokenizer does.</summary>
/// <param name="RenderSpecial">Write control tokens as their text (e.g. "&lt;|im_end|&gt;") instead of nothing.</param>
/// <param name="StripLeadingSpace">Drop one leading space of the first token (default: the vocabulary adds a space prefix).</param>
/// <param name="CleanSpaces">Apply clean_up_tokenization_spaces (default: the BPE family's setting).</param>
public readonly record struct DecodeOptions(bool RenderSpecial = false, bool? StripLeadingSpace = null, bool? CleanSpaces = null);

/// <summary>
/// Text ↔ token ids for a GGUF vocabulary, matching llama.cpp token for token: SentencePiece
/// (<c>llama</c>) or byte-level BPE (<c>gpt2</c>) with the family's pre-tokenizer. Immutable and
/// safe to share between threads.
/// </summary>
public sealed class Tokenizer
{
    private readonly SentencePieceEncoder? _spm;
    private readonly BytePairEncoder? _bpe;
    private readonly TokenPieces _pieces;
    private readonly SpecialTokenSplitter _specials;

    public Vocabulary Vocabulary { get; }

    /// <summary>The vocabulary's warnings plus the tokenizer's own (e.g. unusable merges).</summary>
    public IReadOnlyList<string> Warnings { get; }

    public Tokenizer(Vocabulary vocabulary)
    {
        Vocabulary = vocabulary;
        var warnings = new List<string>(vocabulary.Warnings);
        if (vocabulary.Kind == VocabularyKind.SentencePiece) _spm = new SentencePieceEncoder(vocabulary);
        else _bpe = new BytePairEncoder(vocabulary, warnings);
        _pieces = new TokenPieces(vocabulary);
        _specials = new SpecialTokenSplitter(vocabulary);
        Warnings = warnings;
    }

    public static Tokenizer FromGguf(GgufFile file) => new(Vocabulary.FromGguf(file));

    /// <summary>Encodes with BOS/EOS per the vocabulary when <paramref name="addSpecial"/>, none otherwise.</summary>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false) =>
        Encode(text, addSpecial ? new EncodeOptions(ParseSpecial: parseSpecial) : EncodeOptions.NoSpecialTokens with { ParseSpecial = parseSpecial });

    public int[] Encode(string text, EncodeOptions options)
    {
        var output = new List<int>();
        Encode(text, options, output);
        return output.ToArray();
    }

    /// <summary>
    /// Encodes text in which some ranges are literal: control and unknown tokens are not
    /// recognized where they would overlap one (their text is tokenized as ordinary text). For
    /// rendered chats whose messages must not inject control tokens.
    /// </summary>
    public int[] Encode(string text, EncodeOptions options, IReadOnlyList<Range> literalRanges)
    {
        var output = new List<int>();
        Encode(text, options, output, literalRanges);
        return output.ToArray();
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="output"/>.</summary>
    public void Encode(string text, EncodeOptions options, List<int> output, IReadOnlyList<Range>? literalRanges = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var v = Vocabulary;
        if ((options.AddBos ?? v.AddBos) && v.BosId is int bos) output.Add(bos);

        // SentencePiece puts the implied space before the text and after every special token.
        bool afterSpecial = true;
        foreach (var fragment in _specials.Split(text, options.ParseSpecial, literalRanges))
        {
            if (!fragment.IsText)
            {
                output.Add(fragment.TokenId);
                afterSpecial = true;
                continue;
            }
            var span = text.AsSpan(fragment.Start, fragment.Length);
            if (_spm is not null) _spm.Encode(span, v.AddSpacePrefix && afterSpecial, output);
            else _bpe!.Encode(span, output);
            afterSpecial = false;
        }

        if ((options.AddEos ?? v.AddEos) && v.EosId is int eos) output.Add(eos);
    }

    /// <summary>The bytes a token decodes to (may be part of a UTF-8 character).</summary>
    public ReadOnlySpan<byte> GetTokenBytes(int id, bool renderSpecial = false) => _pieces.Get(id, renderSpecial);

    /// <summary>Decodes a whole sequence; invalid UTF-8 (e.g. a character cut off at the end) becomes U+FFFD.</summary>
    public string Decode(ReadOnlySpan<int> ids, DecodeOptions options = default)
    {
        bool strip = options.StripLeadingSpace ?? Vocabulary.AddSpacePrefix;
        int total = 0;
        foreach (int id in ids) total += _pieces.Get(id, options.RenderSpecial).Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            int length = 0;
            for (int i = 0; i < ids.Length; i++)
            {
                var piece = _pieces.Get(ids[i], options.RenderSpecial);
                // llama.cpp strips one space from the first token only, even when it decodes to nothing.
                if (i == 0 && strip && piece.Length > 0 && piece[0] == ' ') piece = piece[1..];
                piece.CopyTo(buffer.AsSpan(length));
                length += piece.Length;
            }
            if (options.CleanSpaces ?? Vocabulary.CleanSpaces) length = SpaceCleanup.Apply(buffer.AsSpan(0, length));
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A decoder for tokens arriving one at a time (generation): text is released only once its
    /// UTF-8 characters are complete. The first token's space is kept by default, since generated
    /// text continues a prompt.
    /// </summary>
    public TokenTextStream CreateTextStream(bool renderSpecial = false, bool stripLeadingSpace = false) =>
        new(_pieces, renderSpecial, stripLeadingSpace);
}

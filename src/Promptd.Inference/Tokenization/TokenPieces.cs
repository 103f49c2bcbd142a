using System.Globalization;
using System.Text;

namespace Promptd.Inference.Tokenization;

/// <summary>
/// The bytes each token stands for when decoded (llama.cpp's token_to_piece), computed once per
/// vocabulary: SentencePiece ▁ becomes a space and &lt;0xXX&gt; its byte; byte-level BPE characters
/// map back to their bytes; control and unknown tokens decode to nothing unless special tokens are
/// rendered; user-defined tokens are their text.
/// </summary>
internal sealed class TokenPieces
{
    private readonly byte[][] _plain;
    private readonly byte[][] _special;

    /// <summary>The longest piece, in bytes (sizes streaming buffers).</summary>
    public int MaxLength { get; }

    public TokenPieces(Vocabulary vocabulary)
    {
        int n = vocabulary.Count;
        _plain = new byte[n][];
        _special = new byte[n][];
        for (int id = 0; id < n; id++)
        {
            var attributes = vocabulary.GetAttributes(id);
            string text = vocabulary.GetText(id);
            if ((attributes & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0)
            {
                _plain[id] = [];
                _special[id] = Encoding.UTF8.GetBytes(text);
            }
            else
            {
                _plain[id] = _special[id] = PieceOf(vocabulary.Kind, text, attributes);
            }
            MaxLength = Math.Max(MaxLength, _special[id].Length);
        }
    }

    public ReadOnlySpan<byte> Get(int id, bool renderSpecial)
    {
        if ((uint)id >= (uint)_plain.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside the vocabulary (0..{_plain.Length - 1})");
        return renderSpecial ? _special[id] : _plain[id];
    }

    private static byte[] PieceOf(VocabularyKind kind, string text, TokenAttributes attributes)
    {
        if ((attributes & TokenAttributes.UserDefined) != 0) return Encoding.UTF8.GetBytes(text);
        if (kind == VocabularyKind.SentencePiece)
        {
            if ((attributes & TokenAttributes.Normal) != 0) return Encoding.UTF8.GetBytes(text.Replace('\u2581', ' '));
            if ((attributes & TokenAttributes.Byte) != 0 && TryParseByteToken(text, out byte b)) return [b];
            return [];
        }
        if ((attributes & TokenAttributes.Normal) == 0) return [];
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            int b = rune.IsBmp ? ByteLevel.Decode((char)rune.Value) : -1;
            if (b >= 0)
            {
                bytes.Add((byte)b);
                continue;
            }
            // Not a byte-level character: keep it as text rather than lose it.
            int n = rune.EncodeToUtf8(utf8);
            for (int i = 0; i < n; i++) bytes.Add(utf8[i]);
        }
        return bytes.ToArray();
    }

    private static bool TryParseByteToken(string text, out byte value)
    {
        value = 0;
        return text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
            && byte.TryParse(text.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }
}

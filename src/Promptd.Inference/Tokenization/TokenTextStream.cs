using System.Text;

namespace Promptd.Inference.Tokenization;

/// <summary>
/// Turns tokens into text as they arrive. A character whose UTF-8 bytes are spread over several
/// tokens (byte-fallback pieces, byte-level BPE pieces of emoji or CJK) is held back until it is
/// complete and then released whole, so a stream never shows a U+FFFD for a character that is only
/// half there yet. Bytes that can never form a character still become U+FFFD. Not thread-safe: one
/// per generated sequence.
/// </summary>
public sealed class TokenTextStream
{
    private readonly TokenPieces _pieces;
    private readonly bool _renderSpecial;
    private readonly bool _stripLeadingSpace;
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetDecoder();
    private readonly char[] _chars;
    private bool _first = true;

    internal TokenTextStream(TokenPieces pieces, bool renderSpecial, bool stripLeadingSpace)
    {
        _pieces = pieces;
        _renderSpecial = renderSpecial;
        _stripLeadingSpace = stripLeadingSpace;
        // Room for a piece plus up to three bytes held back from before, each possibly one char.
        _chars = new char[pieces.MaxLength + 8];
    }

    /// <summary>The text this token completes ("" while a character is still incomplete).</summary>
    public string Append(int tokenId)
    {
        var bytes = _pieces.Get(tokenId, _renderSpecial);
        if (_first)
        {
            if (_stripLeadingSpace && bytes.Length > 0 && bytes[0] == ' ') bytes = bytes[1..];
            _first = false;
        }
        int n = _decoder.GetChars(bytes, _chars, flush: false);
        return n == 0 ? "" : new string(_chars, 0, n);
    }

    /// <summary>At the end of the stream: whatever is still held back, as U+FFFD.</summary>
    public string Flush()
    {
        int n = _decoder.GetChars([], _chars, flush: true);
        return n == 0 ? "" : new string(_chars, 0, n);
    }

    /// <summary>Starts a new stream.</summary>
    public void Reset()
    {
        _decoder.Reset();
        _first = true;
    }
}

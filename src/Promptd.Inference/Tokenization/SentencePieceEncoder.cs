using System.Buffers;
using System.Text;

namespace Promptd.Inference.Tokenization;

/// <summary>
/// SentencePiece-style tokenization (llama.cpp's llm_tokenizer_spm): spaces become ▁, the text is
/// split into code points, and the adjacent pair whose concatenation is the highest-scoring token
/// is merged, repeatedly (ties: leftmost first). What never became a token is emitted as its UTF-8
/// bytes (&lt;0xXX&gt; tokens). Lookups go by span into the vocabulary, so merging allocates nothing
/// per pair; a heap keeps it O(n log n).
/// </summary>
internal sealed class SentencePieceEncoder
{
    private const char SpaceMark = '\u2581'; // ▁

    private readonly Vocabulary _vocabulary;
    private readonly int[] _byteTokens;

    public SentencePieceEncoder(Vocabulary vocabulary)
    {
        _vocabulary = vocabulary;
        _byteTokens = new int[256];
        for (int b = 0; b < 256; b++) _byteTokens[b] = FindByteToken(vocabulary, (byte)b);
    }

    /// <summary>The &lt;0xXX&gt; token of a byte, else the byte as a one-character token, else unknown (-1 if none).</summary>
    private static int FindByteToken(Vocabulary vocabulary, byte b)
    {
        if (vocabulary.TryGetId($"<0x{b:X2}>", out int id)) return id;
        if (b < 0x80 && vocabulary.TryGetId(((char)b).ToString(), out id)) return id;
        return vocabulary.UnknownId ?? -1;
    }

    private struct Symbol
    {
        public int Start, Length, Prev, Next;
    }

    private readonly record struct Bigram(int Left, int Right, int Length);

    private sealed class BigramOrder : IComparer<(float Score, int Left)>
    {
        public static readonly BigramOrder Instance = new();

        // Highest score first; among equals the leftmost pair.
        public int Compare((float Score, int Left) x, (float Score, int Left) y)
        {
            int c = y.Score.CompareTo(x.Score);
            return c != 0 ? c : x.Left.CompareTo(y.Left);
        }
    }

    /// <param name="text">One text fragment (special tokens already cut out).</param>
    /// <param name="prefixSpace">Whether to prepend the implied space (at the start or after a special token).</param>
    public void Encode(ReadOnlySpan<char> text, bool prefixSpace, List<int> output)
    {
        int length = text.Length + (prefixSpace ? 1 : 0);
        char[] escaped = ArrayPool<char>.Shared.Rent(length);
        Symbol[] symbols = ArrayPool<Symbol>.Shared.Rent(length);
        try
        {
            int w = 0;
            if (prefixSpace) escaped[w++] = SpaceMark;
            foreach (char c in text) escaped[w++] = c == ' ' ? SpaceMark : c;
            var chars = escaped.AsSpan(0, length);

            int count = 0;
            for (int i = 0; i < length;)
            {
                int n = char.IsHighSurrogate(chars[i]) && i + 1 < length && char.IsLowSurrogate(chars[i + 1]) ? 2 : 1;
                symbols[count] = new Symbol { Start = i, Length = n, Prev = count - 1, Next = i + n < length ? count + 1 : -1 };
                count++;
                i += n;
            }

            var queue = new PriorityQueue<Bigram, (float, int)>(BigramOrder.Instance);
            for (int i = 1; i < count; i++) TryAddBigram(chars, symbols, i - 1, i, queue);

            while (queue.TryDequeue(out var bigram, out _))
            {
                ref var left = ref symbols[bigram.Left];
                ref var right = ref symbols[bigram.Right];
                // Stale: one side has merged with something else since the pair was queued.
                if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Length) continue;

                left.Length += right.Length;
                right.Length = 0;
                left.Next = right.Next;
                if (right.Next >= 0) symbols[right.Next].Prev = bigram.Left;
                TryAddBigram(chars, symbols, left.Prev, bigram.Left, queue);
                TryAddBigram(chars, symbols, bigram.Left, left.Next, queue);
            }

            for (int i = 0; i >= 0 && count > 0; i = symbols[i].Next)
            {
                var piece = chars.Slice(symbols[i].Start, symbols[i].Length);
                if (_vocabulary.TryGetId(piece, out int id)) output.Add(id);
                else AppendBytes(piece, output);
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(escaped);
            ArrayPool<Symbol>.Shared.Return(symbols);
        }
    }

    private void TryAddBigram(ReadOnlySpan<char> chars, Symbol[] symbols, int left, int right, PriorityQueue<Bigram, (float, int)> queue)
    {
        if (left < 0 || right < 0) return;
        int start = symbols[left].Start, length = symbols[left].Length + symbols[right].Length;
        if (!_vocabulary.TryGetId(chars.Slice(start, length), out int id)) return;
        queue.Enqueue(new Bigram(left, right, length), (_vocabulary.GetScore(id), left));
    }

    private void AppendBytes(ReadOnlySpan<char> piece, List<int> output)
    {
        Span<byte> bytes = stackalloc byte[8];
        int n = Encoding.UTF8.GetBytes(piece, bytes);
        for (int j = 0; j < n; j++)
        {
            int id = _byteTokens[bytes[j]];
            if (id >= 0) output.Add(id);
        }
    }
}

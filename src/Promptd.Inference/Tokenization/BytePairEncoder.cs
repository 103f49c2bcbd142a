using System.Buffers;
using System.Text;

namespace Promptd.Inference.Tokenization;

/// <summary>
/// Byte-level BPE (llama.cpp's llm_tokenizer_bpe): the pre-tokenizer splits the text into words;
/// each word's UTF-8 bytes start as one symbol each, and the adjacent pair with the best (lowest)
/// merge rank is merged, repeatedly (ties: leftmost first). Merges are looked up by the pair of
/// token ids in one dictionary keyed by a 64-bit integer, so merging allocates nothing per pair.
/// </summary>
internal sealed class BytePairEncoder
{
    private readonly Vocabulary _vocabulary;
    private readonly PreTokenizer _preTokenizer;
    private readonly Dictionary<long, Merge> _merges;
    private readonly int[] _byteTokens;

    private readonly record struct Merge(int Rank, int Result);

    public BytePairEncoder(Vocabulary vocabulary, List<string> warnings)
    {
        _vocabulary = vocabulary;
        _preTokenizer = vocabulary.PreTokenizer ?? throw new ArgumentException("a BPE vocabulary needs a pre-tokenizer", nameof(vocabulary));
        _byteTokens = new int[256];
        for (int b = 0; b < 256; b++)
            _byteTokens[b] = vocabulary.TryGetId(ByteLevel.Encode((byte)b).ToString(), out int id) ? id : -1;
        _merges = BuildMerges(vocabulary, warnings);
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private static Dictionary<long, Merge> BuildMerges(Vocabulary vocabulary, List<string> warnings)
    {
        var merges = new Dictionary<long, Merge>(vocabulary.Merges.Count);
        int unusable = 0;
        for (int rank = 0; rank < vocabulary.Merges.Count; rank++)
        {
            string rule = vocabulary.Merges[rank];
            // The separator is the first space after the first character (a side may itself be a space).
            int space = rule.Length > 1 ? rule.IndexOf(' ', 1) : -1;
            if (space < 0
                || !vocabulary.TryGetId(rule.AsSpan(0, space), out int left)
                || !vocabulary.TryGetId(rule.AsSpan(space + 1), out int right)
                || !vocabulary.TryGetId(string.Concat(rule.AsSpan(0, space), rule.AsSpan(space + 1)), out int result))
            {
                unusable++;
                continue;
            }
            merges.TryAdd(Key(left, right), new Merge(rank, result)); // the first (best) rank wins
        }
        if (unusable > 0)
            warnings.Add($"{unusable} of {vocabulary.Merges.Count} BPE merges are malformed or name texts that are not tokens; they are ignored");
        return merges;
    }

    public void Encode(ReadOnlySpan<char> text, List<int> output)
    {
        int[] codepoints = ArrayPool<int>.Shared.Rent(text.Length);
        try
        {
            int n = 0;
            foreach (var rune in text.EnumerateRunes()) codepoints[n++] = rune.Value; // lone surrogates arrive as U+FFFD
            var cps = codepoints.AsSpan(0, n);
            var pieces = new List<int>();
            _preTokenizer.Split(cps, pieces);

            var word = new WordBuffers();
            int start = 0;
            foreach (int length in pieces)
            {
                EncodeWord(cps.Slice(start, length), ref word, output);
                start += length;
            }
            word.Return();
        }
        finally
        {
            ArrayPool<int>.Shared.Return(codepoints);
        }
    }

    private struct Symbol
    {
        public int Id, Length, Prev, Next;
    }

    private readonly record struct Bigram(int Left, int Right, int LeftId, int RightId, int Result);

    private sealed class BigramOrder : IComparer<(int Rank, int Left)>
    {
        public static readonly BigramOrder Instance = new();

        // Lowest rank first; among equals the leftmost pair.
        public int Compare((int Rank, int Left) x, (int Rank, int Left) y) =>
            x.Rank != y.Rank ? x.Rank.CompareTo(y.Rank) : x.Left.CompareTo(y.Left);
    }

    /// <summary>Scratch space reused across the words of one call.</summary>
    private struct WordBuffers
    {
        public byte[] Bytes;
        public char[] Chars;
        public Symbol[] Symbols;
        public PriorityQueue<Bigram, (int, int)>? Queue;

        public void Ensure(int bytes)
        {
            if (Bytes is not null && Bytes.Length >= bytes) return;
            Return();
            Bytes = ArrayPool<byte>.Shared.Rent(bytes);
            Chars = ArrayPool<char>.Shared.Rent(bytes);
            Symbols = ArrayPool<Symbol>.Shared.Rent(bytes);
        }

        public void Return()
        {
            if (Bytes is null) return;
            ArrayPool<byte>.Shared.Return(Bytes);
            ArrayPool<char>.Shared.Return(Chars);
            ArrayPool<Symbol>.Shared.Return(Symbols);
            Bytes = null!;
        }
    }

    private void EncodeWord(ReadOnlySpan<int> codepoints, ref WordBuffers buffers, List<int> output)
    {
        buffers.Ensure(codepoints.Length * 4);
        int count = 0;
        foreach (int cp in codepoints) count += new Rune(cp).EncodeToUtf8(buffers.Bytes.AsSpan(count));
        var bytes = buffers.Bytes.AsSpan(0, count);

        if (_preTokenizer.IgnoreMerges)
        {
            var chars = buffers.Chars.AsSpan(0, count);
            for (int i = 0; i < count; i++) chars[i] = ByteLevel.Encode(bytes[i]);
            if (_vocabulary.TryGetId(chars, out int whole))
            {
                output.Add(whole);
                return;
            }
        }

        var symbols = buffers.Symbols;
        for (int i = 0; i < count; i++)
            symbols[i] = new Symbol { Id = _byteTokens[bytes[i]], Length = 1, Prev = i - 1, Next = i + 1 < count ? i + 1 : -1 };

        if (count > 1)
        {
            var queue = buffers.Queue ??= new PriorityQueue<Bigram, (int, int)>(BigramOrder.Instance);
            queue.Clear();
            for (int i = 1; i < count; i++) TryAddBigram(symbols, i - 1, i, queue);
            while (queue.TryDequeue(out var bigram, out _))
            {
                ref var left = ref symbols[bigram.Left];
                ref var right = ref symbols[bigram.Right];
                // Stale: one side has merged with something else since the pair was queued.
                if (left.Length == 0 || right.Length == 0 || left.Id != bigram.LeftId || right.Id != bigram.RightId) continue;

                left.Id = bigram.Result;
                left.Length += right.Length;
                right.Length = 0;
                left.Next = right.Next;
                if (right.Next >= 0) symbols[right.Next].Prev = bigram.Left;
                TryAddBigram(symbols, left.Prev, bigram.Left, queue);
                TryAddBigram(symbols, bigram.Left, left.Next, queue);
            }
        }

        // A byte without a token in the vocabulary is dropped, as llama.cpp does; real byte-level
        // vocabularies hold all 256.
        for (int i = 0; i >= 0 && count > 0; i = symbols[i].Next)
        {
            if (symbols[i].Id >= 0) output.Add(symbols[i].Id);
        }
    }

    private void TryAddBigram(Symbol[] symbols, int left, int right, PriorityQueue<Bigram, (int, int)> queue)
    {
        if (left < 0 || right < 0) return;
        int leftId = symbols[left].Id, rightId = symbols[right].Id;
        if (leftId < 0 || rightId < 0 || !_merges.TryGetValue(Key(leftId, rightId), out var merge)) return;
        queue.Enqueue(new Bigram(left, right, leftId, rightId, merge.Result), (merge.Rank, left));
    }
}

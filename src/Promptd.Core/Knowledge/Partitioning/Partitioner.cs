using Promptd.Core.Knowledge.Extraction;

namespace Promptd.Core.Knowledge.Partitioning;

/// <summary>
/// Partition sizes, in words (whitespace-separated; a rough stand-in for model tokens, which run about
/// 1.3 per English word). <see cref="OverlapWords"/> words at the end of a partition are repeated at
/// the start of the next one of the same section, so a sentence cut at a boundary is whole in one.
/// </summary>
public sealed record PartitioningOptions
{
    public int MaxWords { get; init; } = 200;
    public int OverlapWords { get; init; } = 20;

    public void Validate()
    {
        if (MaxWords < 10) throw new ArgumentOutOfRangeException(nameof(MaxWords), MaxWords, "a partition needs room for at least 10 words");
        if (OverlapWords < 0 || OverlapWords > MaxWords / 2) throw new ArgumentOutOfRangeException(nameof(OverlapWords), OverlapWords, "overlap must be between 0 and half of MaxWords");
    }
}

/// <summary>
/// A piece of a document small enough to retrieve and quote. Numbers are 1-based: sections count the
/// document's sections that hold text, in order; partitions count through the whole document (so
/// (document, partition number) names one partition).
/// </summary>
public sealed record DocumentPartition(int SectionNumber, int PartitionNumber, string? Heading, string Text);

/// <summary>Cuts sections into partitions of at most <see cref="PartitioningOptions.MaxWords"/> words, never inside a word or across sections.</summary>
public static class Partitioner
{
    public static IReadOnlyList<DocumentPartition> Partition(ExtractedDocument document, PartitioningOptions options)
    {
        options.Validate();
        var partitions = new List<DocumentPartition>();
        var section = 0;
        foreach (var s in document.Sections)
        {
            var words = Words(s.Text);
            if (words.Count == 0) continue;
            section++;
            var start = 0;
            while (true)
            {
                var end = BreakAfter(s.Text, words, start, options.MaxWords);
                partitions.Add(new DocumentPartition(section, partitions.Count + 1, s.Heading, s.Text[words[start].Start..words[end - 1].End]));
                if (end >= words.Count) break;
                start = Math.Max(start + 1, end - options.OverlapWords);
            }
        }
        return partitions;
    }

    /// <summary>
    /// Where the partition starting at word <paramref name="start"/> ends (exclusive word index): all
    /// remaining words if they fit, else the last paragraph or sentence end in the second half of the
    /// window, else the window's end.
    /// </summary>
    private static int BreakAfter(string text, List<(int Start, int End)> words, int start, int maxWords)
    {
        var limit = Math.Min(words.Count, start + maxWords);
        if (limit == words.Count) return limit;
        var sentence = -1;
        for (var end = limit; end > start + maxWords / 2; end--)
        {
            var gap = text.AsSpan(words[end - 1].End, words[end].Start - words[end - 1].End);
            if (gap.Count('\n') >= 2) return end; // a paragraph break: the best place
            if (sentence < 0 && EndsSentence(text, words[end - 1])) sentence = end;
        }
        return sentence > 0 ? sentence : limit;
    }

    private static bool EndsSentence(string text, (int Start, int End) word)
    {
        var last = text[word.End - 1];
        if (last is '"' or '\'' or ')' or '’' or '”' && word.End - word.Start > 1) last = text[word.End - 2];
        return last is '.' or '!' or '?' or ':' or ';' or '。';
    }

    private static List<(int Start, int End)> Words(string text)
    {
        var words = new List<(int, int)>();
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i == text.Length) break;
            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i])) i++;
            words.Add((start, i));
        }
        return words;
    }
}

using System.Text;

namespace Promptd.Core.Knowledge.Retrieval;

/// <summary>
/// Retrieved partitions formatted for the prompt. <see cref="Sources"/>[i] is cited as <c>[i+1]</c>.
/// </summary>
public sealed record ContextBlock(string Text, IReadOnlyList<RetrievedPartition> Sources)
{
    public static ContextBlock Empty { get; } = new("", []);

    /// <summary>
    /// Numbers the partitions [1], [2]… in the order given (most relevant first) under a short
    /// instruction, each with its source name, heading and numbers:
    /// <code>
    /// [1] handbook.md — Install &gt; Linux (section 2, partition 3)
    /// text of the partition
    /// </code>
    /// Partitions that would take the block past <paramref name="maxWords"/> are left out (the first
    /// always fits, cut at a word boundary if needed), so the context cannot crowd out the question.
    /// </summary>
    public static ContextBlock Format(IReadOnlyList<RetrievedPartition> partitions, int maxWords = int.MaxValue)
    {
        if (partitions.Count == 0) return Empty;
        if (maxWords < 1) throw new ArgumentOutOfRangeException(nameof(maxWords));
        var text = new StringBuilder("Use the numbered sources below to answer, and cite them by number, like [1].\n");
        var used = new List<RetrievedPartition>();
        var words = 0;
        foreach (var p in partitions)
        {
            var count = CountWords(p.Partition.Text);
            var body = p.Partition.Text;
            if (words + count > maxWords)
            {
                if (used.Count > 0) continue;
                body = FirstWords(body, maxWords) + " …";
                count = maxWords;
            }
            used.Add(p);
            words += count;
            text.Append('\n').Append('[').Append(used.Count).Append("] ").Append(p.Document.SourceName);
            if (p.Partition.Heading is { } heading) text.Append(" — ").Append(heading);
            text.Append(" (section ").Append(p.Partition.SectionNumber).Append(", partition ").Append(p.Partition.PartitionNumber).Append(")\n");
            text.Append(body).Append('\n');
        }
        return new ContextBlock(text.ToString(), used);
    }

    private static int CountWords(string s) => s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    private static string FirstWords(string s, int n) => string.Join(' ', s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Take(n));
}

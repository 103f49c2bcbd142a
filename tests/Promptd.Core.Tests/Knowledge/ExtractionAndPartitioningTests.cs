using Promptd.Core.Knowledge;
using Promptd.Core.Knowledge.Extraction;
using Promptd.Core.Knowledge.Partitioning;

namespace Promptd.Core.Tests.Knowledge;

/// <summary>Each content type split into sections and partitions, with the expected numbers.</summary>
public sealed class ExtractionAndPartitioningTests
{
    private const string PlainText =
        "Introduction\n\nPromptd runs prompts against local models.\r\n\r\nStorage\n\nState lives in SQLite.\nIt can also use PostgreSQL.\n\n\n\nA closing line without a heading.\n";

    private const string Markdown =
        "---\ntitle: Guide\n---\n# Guide\n\nIntro paragraph.\n\n## Install\n\nRun the installer.\n\n```bash\n# not a heading\nmake install\n```\n\n" +
        "Linux\n-----\n\nUse apt.\n\n### Notes ###\n\n#hashtag is text\n";

    private const string Html =
        "<!DOCTYPE html><html><head><title>Promptd &amp; You</title><style>h1{color:red}</style>\n" +
        "<script>var s = \"<h1>fake</h1>\";</script></head>\n" +
        "<body><p>Before any heading &mdash; intro.</p>\n" +
        "<H1>Overview</H1><p>Promptd serves <b>prompts</b>.<br>Fast &amp; local.</p>\n" +
        "<!-- <h2>commented</h2> -->\n" +
        "<h2 class=\"x\" title='a > b'>Setup</h2><div>Run <code>promptd serve</code> &lt;port&gt;.</div>\n" +
        "<ul><li>one</li><li>two</li></ul>\n" +
        "<h2>Empty</h2>\n<h3>Deep</h3><pre>  keep   spaces\n  here</pre>\n" +
        "<h1>Other</h1><p>a < b and 3 > 2, &#233;&#xE9;&unknown; &copy2024</p><![CDATA[raw <text>]]>";

    public static TheoryData<string, DocumentFormat, string?, string[]> Documents => new()
    {
        {
            PlainText, DocumentFormat.PlainText, null,
            [
                "1/1 Introduction | Promptd runs prompts against local models.",
                "2/2 Storage | State lives in SQLite.\nIt can also use PostgreSQL.",
                "3/3 - | A closing line without a heading.",
            ]
        },
        {
            Markdown, DocumentFormat.Markdown, null,
            [
                "1/1 Guide | Intro paragraph.",
                "2/2 Guide > Install | Run the installer.\n\n```bash\n# not a heading\nmake install\n```",
                "3/3 Guide > Linux | Use apt.",
                "4/4 Guide > Linux > Notes | #hashtag is text",
            ]
        },
        {
            Html, DocumentFormat.Html, "Promptd & You",
            [
                "1/1 - | Before any heading — intro.",
                "2/2 Overview | Promptd serves prompts.\nFast & local.",
                "3/3 Overview > Setup | Run promptd serve <port>.\n\none\ntwo",
                "4/4 Overview > Empty > Deep | keep   spaces\n  here", // a partition starts at its first word
                "5/5 Other | a < b and 3 > 2, éé&unknown; ©2024\n\nraw <text>",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(Documents))]
    public void SplitsEachTypeIntoNumberedSections(string text, DocumentFormat format, string? title, string[] expected)
    {
        var document = TextExtractor.Extract(text, format);
        Assert.Equal(title, document.Title);
        var partitions = Partitioner.Partition(document, new PartitioningOptions());
        Assert.Equal(expected, partitions.Select(p => $"{p.SectionNumber}/{p.PartitionNumber} {p.Heading ?? "-"} | {p.Text}"));
    }

    public static TheoryData<string, int, int, string[]> LongSections => new()
    {
        // No sentence end in the second half of the window: cut at MaxWords, overlap 2 words.
        {
            "One two three four five. Six seven eight nine ten eleven twelve. Thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty.",
            10, 2,
            [
                "1/1 One two three four five. Six seven eight nine ten",
                "1/2 nine ten eleven twelve. Thirteen fourteen fifteen sixteen seventeen eighteen",
                "1/3 seventeen eighteen nineteen twenty.",
            ]
        },
        // A sentence end in the second half of the window wins over the window's end.
        {
            "Alpha beta gamma delta epsilon zeta eta. Theta iota kappa lambda mu nu xi omicron pi rho sigma.",
            10, 2,
            [
                "1/1 Alpha beta gamma delta epsilon zeta eta.",
                "1/2 zeta eta. Theta iota kappa lambda mu nu xi omicron",
                "1/3 xi omicron pi rho sigma.",
            ]
        },
        // No overlap; partition numbers run on across sections, section numbers restart nothing.
        {
            "a1 a2 a3 a4 a5 a6 a7 a8 a9 a10 a11 a12\n\nb1 b2 b3",
            10, 0,
            [
                "1/1 a1 a2 a3 a4 a5 a6 a7 a8 a9 a10",
                "1/2 a11 a12",
                "2/3 b1 b2 b3",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(LongSections))]
    public void CutsLongSectionsIntoBoundedOverlappingPartitions(string text, int maxWords, int overlap, string[] expected)
    {
        var partitions = Partitioner.Partition(TextExtractor.Extract(text, DocumentFormat.PlainText), new PartitioningOptions { MaxWords = maxWords, OverlapWords = overlap });
        Assert.Equal(expected, partitions.Select(p => $"{p.SectionNumber}/{p.PartitionNumber} {p.Text}"));
    }

    [Fact]
    public void AParagraphBreakIsTheFavouriteCut()
    {
        var markdown = "# T\n\nw1 w2 w3 w4 w5 w6.\n\nw7 w8. w9 w10 w11 w12";
        var partitions = Partitioner.Partition(TextExtractor.Extract(markdown, DocumentFormat.Markdown), new PartitioningOptions { MaxWords = 10, OverlapWords = 0 });
        Assert.Equal(["w1 w2 w3 w4 w5 w6.", "w7 w8. w9 w10 w11 w12"], partitions.Select(p => p.Text));
    }

    [Fact]
    public void PartitionsOfALongDocumentAreBoundedAndCoverEveryWordInOrder()
    {
        var random = new Random(7);
        var words = Enumerable.Range(0, 5000).Select(i => $"w{i}" + (random.Next(12) == 0 ? "." : "")).ToArray();
        var text = string.Join(' ', words);
        var options = new PartitioningOptions { MaxWords = 120, OverlapWords = 15 };
        var partitions = Partitioner.Partition(TextExtractor.Extract(text, DocumentFormat.PlainText), options);

        var position = words.Select((w, i) => (w, i)).ToDictionary(x => x.w, x => x.i);
        var covered = new List<string>();
        foreach (var p in partitions)
        {
            var pieces = p.Text.Split(' ');
            Assert.InRange(pieces.Length, 1, options.MaxWords);
            Assert.All(pieces, w => Assert.True(position.ContainsKey(w), $"'{w}' is not a whole word")); // never cut mid-word
            // Each partition starts at most OverlapWords back and continues where the last one ended.
            var overlap = covered.Count == 0 ? 0 : covered.Count - position[pieces[0]];
            Assert.InRange(overlap, 0, options.OverlapWords);
            covered.AddRange(pieces.Skip(overlap));
        }
        Assert.Equal(words, covered);
        Assert.Equal(Enumerable.Range(1, partitions.Count), partitions.Select(p => p.PartitionNumber));
    }

    [Theory]
    [InlineData(9, 0)]
    [InlineData(100, 51)]
    [InlineData(100, -1)]
    public void RejectsUnworkableSizes(int maxWords, int overlap) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Partitioner.Partition(new ExtractedDocument(null, []), new PartitioningOptions { MaxWords = maxWords, OverlapWords = overlap }));

    public static TheoryData<string, string[]> HtmlOddities => new()
    {
        { "<p>unclosed <b>bold <i>and italic", ["unclosed bold and italic"] },
        { "<div>x</div><!-- never closed <h1>no</h1>", ["x"] },
        { "<script>alert('<p>')", [] },
        { "<p>A&nbsp;B &lt;&gt; &amp;amp; &#0; &#x110000;</p>", ["A B <> &amp; \uFFFD \uFFFD"] },
        { "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", ["a b\nc"] },
        { "<h2>Only <em>a</em> heading</h2>", [] },
        { "<h1>Unclosed heading<p>its text", ["Unclosed heading | its text"] },
        { "text with <3 and <<>> and </ >", ["text with <3 and <<>> and"] },
        { "<svg><title>icon</title><text>drawn</text></svg><p>after</p>", ["after"] },
        { "<p>x</p><noscript>enable js</noscript><template><p>t</p></template>", ["x"] },
    };

    [Theory]
    [MemberData(nameof(HtmlOddities))]
    public void HtmlDegradesToTextNotErrors(string html, string[] sections)
    {
        var document = HtmlExtractor.Extract(html);
        Assert.Equal(sections, document.Sections.Select(s => s.Heading is null ? s.Text : $"{s.Heading} | {s.Text}"));
    }
}

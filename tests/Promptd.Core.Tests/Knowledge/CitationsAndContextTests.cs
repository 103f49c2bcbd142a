using Promptd.Core.Knowledge;
using Promptd.Core.Knowledge.Index;
using Promptd.Core.Knowledge.Retrieval;

namespace Promptd.Core.Tests.Knowledge;

public sealed class CitationsAndContextTests
{
    private static readonly Guid Kb = Guid.Parse("aaaaaaaa-0000-0000-0000-000000000001");

    private static RetrievedPartition Part(Guid doc, string name, int section, int partition, string? heading, string text, double relevance) =>
        new(new StoredPartition(partition, new DocumentInfo
        {
            KnowledgeBaseId = Kb, DocumentId = doc, FileId = "f-" + name, SourceName = name, SourceUrl = null, ContentType = "text/plain",
            LastUpdate = DateTimeOffset.UnixEpoch, Tags = new Dictionary<string, IReadOnlyList<string>> { ["k"] = ["v"] },
        }, section, partition, heading, text), relevance);

    private static readonly Guid DocA = Guid.Parse("00000000-0000-0000-0000-00000000000a");
    private static readonly Guid DocB = Guid.Parse("00000000-0000-0000-0000-00000000000b");

    private static readonly RetrievedPartition[] Retrieved =
    [
        Part(DocA, "a.md", 2, 3, "Install > Linux", "Use apt to install.", 0.9),
        Part(DocB, "b.txt", 1, 1, null, "Windows uses an installer.", 0.6),
        Part(DocA, "a.md", 1, 1, "Install", "Installing is quick and simple enough for everyone.", 0.4),
    ];

    [Fact]
    public void CitationsGroupPartitionsByDocumentInTheReferenceShape()
    {
        var citations = Citations.FromRetrieved(Retrieved);
        Assert.Equal(2, citations.Count);
        var a = citations[0];
        Assert.Equal(($"{Kb}/{DocA}/f-a.md", Kb.ToString(), DocA.ToString(), "f-a.md", "text/plain", "a.md"), (a.Link, a.Index, a.DocumentId, a.FileId, a.SourceContentType, a.SourceName));
        Assert.Equal([(3, 2, 0.9), (1, 1, 0.4)], a.Partitions.Select(p => (p.PartitionNumber, p.SectionNumber, p.Relevance)));
        Assert.Equal(["v"], a.Partitions[0].Tags["k"]);
        Assert.Equal("b.txt", citations[1].SourceName);
    }

    [Fact]
    public void TheContextBlockNumbersSourcesInOrder()
    {
        var block = ContextBlock.Format(Retrieved);
        Assert.Equal(
            "Use the numbered sources below to answer, and cite them by number, like [1].\n" +
            "\n[1] a.md — Install > Linux (section 2, partition 3)\nUse apt to install.\n" +
            "\n[2] b.txt (section 1, partition 1)\nWindows uses an installer.\n" +
            "\n[3] a.md — Install (section 1, partition 1)\nInstalling is quick and simple enough for everyone.\n",
            block.Text);
        Assert.Equal(Retrieved, block.Sources);
    }

    [Fact]
    public void AWordBudgetLeavesOutWhatDoesNotFit()
    {
        var block = ContextBlock.Format(Retrieved, maxWords: 8);
        Assert.Equal([Retrieved[0], Retrieved[1]], block.Sources); // 4 + 4 words; the third (8 words) does not fit
        var tiny = ContextBlock.Format(Retrieved, maxWords: 2);
        Assert.Equal([Retrieved[0]], tiny.Sources);
        Assert.Contains("\nUse apt …\n", tiny.Text);
        Assert.Same(ContextBlock.Empty, ContextBlock.Format([]));
    }
}

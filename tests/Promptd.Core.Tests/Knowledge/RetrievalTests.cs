using System.Text;
using Promptd.Core.Knowledge;
using Promptd.Core.Knowledge.Analysis;
using Promptd.Core.Knowledge.Index;
using Promptd.Core.Knowledge.Retrieval;

namespace Promptd.Core.Tests.Knowledge;

public sealed class RetrievalTests
{
    private static readonly Guid Kb = Guid.Parse("aaaaaaaa-0000-0000-0000-000000000001");
    private static readonly Guid OtherKb = Guid.Parse("bbbbbbbb-0000-0000-0000-000000000002");

    /// <summary>A small corpus: one document per topic, in each content type, plus distractors sharing common words.</summary>
    private static readonly (string Name, string Type, string Text)[] Corpus =
    [
        ("storage.md", "text/markdown",
            "# Storage\n\nPromptd keeps its state in a single SQLite database file under the data folder. " +
            "Several nodes can share one PostgreSQL database instead.\n\n## Backups\n\nCopy the database file while the server is stopped."),
        ("models.txt", "text/plain",
            "Model files\n\nPromptd loads GGUF model files. Quantized tensors such as Q4_K and Q8_0 keep the files small; " +
            "the format stores metadata and tensor data in one file."),
        ("moderation.html", "text/html",
            "<h1>Moderation</h1><p>Hateful, sexual, violent and self-harm content is classified. Filtered input ends the run; " +
            "flagged output stops the stream. A lexicon filters words by category and severity.</p>"),
        ("streaming.md", "text/markdown",
            "# Server-sent events\n\nAnswers stream as events. Heartbeats keep idle connections open, and a client " +
            "resumes with the Last-Event-ID header after a reconnect."),
        ("pasta.txt", "text/plain",
            "Boil the pasta in salted water for nine minutes. Drain it, keep a cup of the water, and stir in the sauce. " +
            "A single file of instructions for the kitchen."),
        ("cafe.html", "text/html", "<p>Our café serves crème brûlée and espresso.</p>"),
    ];

    private static async Task<(InMemoryKnowledgeIndexStore Store, KnowledgeIndexer Indexer, Bm25Retriever Retriever, Dictionary<string, Guid> Ids)> Build()
    {
        var store = new InMemoryKnowledgeIndexStore();
        var indexer = new KnowledgeIndexer(store, TextAnalyzer.English);
        var ids = new Dictionary<string, Guid>();
        var n = 0;
        foreach (var (name, type, text) in Corpus)
        {
            var id = new Guid(n++, 0, 0, new byte[8]);
            ids[name] = id;
            await indexer.IndexAsync(Info(Kb, id, name), type, Encoding.UTF8.GetBytes(text));
        }
        return (store, indexer, new Bm25Retriever(store, TextAnalyzer.English), ids);
    }

    private static DocumentInfo Info(Guid kb, Guid id, string name) => new()
    {
        KnowledgeBaseId = kb, DocumentId = id, FileId = "file-" + name, SourceName = name, SourceUrl = "https://docs.example/" + name,
        ContentType = "set by the indexer", LastUpdate = new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero),
        Tags = new Dictionary<string, IReadOnlyList<string>> { ["team"] = ["docs"] },
    };

    [Theory]
    [InlineData("Where is the state stored? SQLite database", "storage.md")]
    [InlineData("quantized model file format", "models.txt")]
    [InlineData("how are hateful messages filtered", "moderation.html")]
    [InlineData("streaming heartbeat events", "streaming.md")]
    [InlineData("how long to boil pasta", "pasta.txt")]
    [InlineData("CAFE CREME", "cafe.html")]
    [InlineData("backup the database", "storage.md")]
    [InlineData("reconnect with last event id", "streaming.md")]
    public async Task TheRightDocumentComesFirst(string query, string expected)
    {
        var (_, _, retriever, _) = await Build();
        var results = await retriever.RetrieveAsync(new RetrievalQuery(query, [Kb]) { TopK = 3 });
        Assert.NotEmpty(results);
        Assert.Equal(expected, results[0].Document.SourceName);
        Assert.InRange(results.Count, 1, 3);
        Assert.All(results, r => Assert.InRange(r.Relevance, 0.0, 1.0));
        for (var i = 1; i < results.Count; i++) Assert.True(results[i - 1].Relevance >= results[i].Relevance, "relevance must not increase");
    }

    [Fact]
    public async Task ResultsCarryTheirDocumentAndNumbers()
    {
        var (_, _, retriever, ids) = await Build();
        var top = (await retriever.RetrieveAsync(new RetrievalQuery("copy the database file while stopped", [Kb])))[0];
        Assert.Equal(ids["storage.md"], top.Document.DocumentId);
        Assert.Equal("text/markdown", top.Document.ContentType);
        Assert.Equal((2, 2, "Storage > Backups"), (top.Partition.SectionNumber, top.Partition.PartitionNumber, top.Partition.Heading));
        Assert.Equal("Copy the database file while the server is stopped.", top.Partition.Text);
    }

    [Fact]
    public async Task RelevanceIsTheShareOfTheBestPossibleScore()
    {
        var store = new InMemoryKnowledgeIndexStore();
        var indexer = new KnowledgeIndexer(store, TextAnalyzer.English);
        await indexer.IndexTextAsync(Info(Kb, Guid.NewGuid(), "once.txt"), DocumentFormat.PlainText, "alpha beta gamma delta");
        await indexer.IndexTextAsync(Info(Kb, Guid.NewGuid(), "many.txt"), DocumentFormat.PlainText, "zeta zeta zeta zeta");
        await indexer.IndexTextAsync(Info(Kb, Guid.NewGuid(), "other.txt"), DocumentFormat.PlainText, "omega psi chi phi");
        var retriever = new Bm25Retriever(store, TextAnalyzer.English);

        // One occurrence in a partition of average length: tf(k1+1)/(tf+k1) / (k1+1) = 1/(1+k1).
        var once = Assert.Single(await retriever.RetrieveAsync(new RetrievalQuery("alpha", [Kb])));
        Assert.Equal(1 / (1 + Bm25Retriever.K1), once.Relevance, 6);
        // Four occurrences score higher, still below 1.
        var many = Assert.Single(await retriever.RetrieveAsync(new RetrievalQuery("zeta", [Kb])));
        Assert.InRange(many.Relevance, once.Relevance + 0.1, 1.0);
        // A partition with only one of two equally rare terms carries half the weight.
        var half = Assert.Single(await retriever.RetrieveAsync(new RetrievalQuery("alpha omega", [Kb]) { TopK = 1 }));
        Assert.Equal(once.Relevance / 2, half.Relevance, 6);
    }

    [Fact]
    public async Task MinRelevanceAndTopKLimitTheResults()
    {
        var (_, _, retriever, _) = await Build();
        var all = await retriever.RetrieveAsync(new RetrievalQuery("the database file", [Kb]) { TopK = 10 });
        Assert.True(all.Count >= 3);
        var limited = await retriever.RetrieveAsync(new RetrievalQuery("the database file", [Kb]) { TopK = 2 });
        Assert.Equal(all.Take(2).Select(r => r.Partition.PartitionId), limited.Select(r => r.Partition.PartitionId));
        var threshold = all[1].Relevance;
        var filtered = await retriever.RetrieveAsync(new RetrievalQuery("the database file", [Kb]) { TopK = 10, MinRelevance = threshold });
        Assert.All(filtered, r => Assert.True(r.Relevance >= threshold));
        Assert.Equal(all.Count(r => r.Relevance >= threshold), filtered.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("the and of to it")]      // only stopwords
    [InlineData("xylophone zeppelin")]   // words no document has
    public async Task QueriesWithNothingToFindFindNothing(string query)
    {
        var (_, _, retriever, _) = await Build();
        Assert.Empty(await retriever.RetrieveAsync(new RetrievalQuery(query, [Kb])));
    }

    [Fact]
    public async Task DeletingADocumentRemovesItFromRetrievalAtOnce()
    {
        var (store, _, retriever, ids) = await Build();
        var query = new RetrievalQuery("SQLite PostgreSQL database", [Kb]) { TopK = 10 };
        Assert.Contains(await retriever.RetrieveAsync(query), r => r.Document.DocumentId == ids["storage.md"]);

        Assert.True(await store.DeleteDocumentAsync(Kb, ids["storage.md"]));
        var after = await retriever.RetrieveAsync(query);
        Assert.DoesNotContain(after, r => r.Document.DocumentId == ids["storage.md"]);
        Assert.Empty(await retriever.RetrieveAsync(new RetrievalQuery("SQLite PostgreSQL backups", [Kb])));
        Assert.False(await store.DeleteDocumentAsync(Kb, ids["storage.md"]));
        Assert.DoesNotContain(await store.ListDocumentsAsync(Kb), d => d.DocumentId == ids["storage.md"]);
        Assert.Equal(Corpus.Length - 1, (await store.ListDocumentsAsync(Kb)).Count);
    }

    [Fact]
    public async Task ReindexingADocumentReplacesItsText()
    {
        var (_, indexer, retriever, ids) = await Build();
        await indexer.IndexTextAsync(Info(Kb, ids["pasta.txt"], "pasta.txt"), DocumentFormat.PlainText, "Risotto needs arborio rice and patience.");
        Assert.DoesNotContain(await retriever.RetrieveAsync(new RetrievalQuery("boil pasta salted water", [Kb]) { TopK = 10 }), r => r.Document.DocumentId == ids["pasta.txt"]);
        Assert.Equal("pasta.txt", (await retriever.RetrieveAsync(new RetrievalQuery("arborio risotto", [Kb])))[0].Document.SourceName);
    }

    [Fact]
    public async Task RetrievalStaysWithinTheAskedKnowledgeBases()
    {
        var (store, indexer, retriever, _) = await Build();
        await indexer.IndexTextAsync(Info(OtherKb, Guid.NewGuid(), "secret.txt"), DocumentFormat.PlainText, "SQLite database secrets of another tenant.");
        Assert.DoesNotContain(await retriever.RetrieveAsync(new RetrievalQuery("SQLite database secrets", [Kb]) { TopK = 20 }), r => r.Document.SourceName == "secret.txt");
        Assert.Equal("secret.txt", (await retriever.RetrieveAsync(new RetrievalQuery("SQLite database secrets", [Kb, OtherKb])))[0].Document.SourceName);
        Assert.Empty(await retriever.RetrieveAsync(new RetrievalQuery("SQLite", [])));
        Assert.Equal(1, await store.DeleteKnowledgeBaseAsync(OtherKb));
        Assert.Empty(await retriever.RetrieveAsync(new RetrievalQuery("secrets tenant", [OtherKb])));
    }

    [Theory]
    [InlineData("application/pdf")]
    [InlineData("image/jpeg")]
    public async Task UnsupportedTypesAreRefusedAndNothingIsStored(string contentType)
    {
        var (store, indexer, _, _) = await Build();
        await Assert.ThrowsAsync<UnsupportedContentTypeException>(() => indexer.IndexAsync(Info(Kb, Guid.NewGuid(), "x"), contentType, "%PDF-1.7"u8.ToArray()));
        Assert.Equal(Corpus.Length, (await store.ListDocumentsAsync(Kb)).Count);
    }

    [Theory]
    [InlineData("text/plain", "")]
    [InlineData("text/plain", " \n\n \t ")]
    [InlineData("text/html", "<script>only()</script><style>p{}</style>")]
    public async Task DocumentsWithoutTextAreRefused(string contentType, string body)
    {
        var (_, indexer, _, _) = await Build();
        var e = await Assert.ThrowsAsync<InvalidDocumentException>(() => indexer.IndexAsync(Info(Kb, Guid.NewGuid(), "x"), contentType, Encoding.UTF8.GetBytes(body)));
        Assert.Equal("the document contains no text", e.Message);
    }

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(101, 0.0)]
    [InlineData(5, 1.5)]
    [InlineData(5, -0.1)]
    public async Task BadQueriesAreRejected(int topK, double minRelevance)
    {
        var (_, _, retriever, _) = await Build();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => retriever.RetrieveAsync(new RetrievalQuery("x", [Kb]) { TopK = topK, MinRelevance = minRelevance }));
    }
}

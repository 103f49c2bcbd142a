using System.Text;
using Promptd.Core;
using Promptd.Core.Engines;
using Promptd.Core.Knowledge;
using Promptd.Core.Knowledge.Analysis;
using Promptd.Core.Knowledge.Index;
using Promptd.Core.Knowledge.Retrieval;
using Promptd.Core.Moderation;
using Promptd.Core.Runs;
using Promptd.Core.Storage;
using Promptd.Core.TemplateRuns;
using Promptd.Core.Templates;

namespace Promptd.Storage.Tests;

/// <summary>What every storage must do for templates, template runs and knowledge; SQLite runs it now.</summary>
public abstract class HyperleapStorageContractTests : IAsyncLifetime
{
    protected RecordingSink Sink { get; } = new();
    protected IPromptdStorage Storage { get; set; } = null!;

    protected abstract Task<IPromptdStorage> OpenAsync(IRunEventSink sink);

    public async Task InitializeAsync() => Storage = await OpenAsync(Sink);

    public async Task DisposeAsync() => await Storage.DisposeAsync();

    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;

    private static TemplateVersionContent Content(string user) => new()
    {
        ModelId = "m",
        Messages = [new TemplateMessage("system", "Be brief."), new TemplateMessage("user", user)],
        Parameters = new PromptParameters { MaxTokens = 7, Stop = ["\n\n"], Sampling = new SamplingParameters { Temperature = 0.25f, Seed = 99 } },
        KnowledgeBaseIds = [Guid.Parse("aaaaaaaa-0000-0000-0000-000000000001")],
        Moderation = ModerationPolicy.FromWire("high", new Dictionary<string, string?> { ["hate"] = "low", ["sexual"] = "off" }),
    };

    private async Task<(TemplateRecord Template, TemplateVersion First)> CreateTemplateAsync(string name = "t")
    {
        var first = new TemplateVersion { Id = Guid.NewGuid(), TemplateId = Guid.NewGuid(), Number = 1, Content = Content("Hi {{x}}"), CreatedAt = Now };
        var template = new TemplateRecord
        {
            Id = first.TemplateId, UserId = "u1", Name = name, DefaultVersionId = first.Id, VersionCount = 1,
            Labels = new Dictionary<string, Guid> { ["production"] = first.Id }, CreatedAt = Now, UpdatedAt = Now,
        };
        await Storage.Templates.CreateAsync(template, first, None);
        return (template, first);
    }

    [Fact]
    public async Task A_template_and_its_versions_read_back_as_written_and_numbers_count_up()
    {
        var (template, first) = await CreateTemplateAsync();
        var read = await Storage.Templates.GetAsync(template.Id, None);
        Assert.NotNull(read);
        Assert.Equal(template with { Labels = read.Labels }, read);
        Assert.Equal(first.Id, read.Labels["production"]);

        var readFirst = await Storage.Templates.GetVersionAsync(template.Id, first.Id, None);
        Assert.Equal(TemplateContentText(first.Content), TemplateContentText(readFirst!.Content));

        var second = await Storage.Templates.AddVersionAsync(template.Id, Guid.NewGuid(), Content("Bye {{x}}"), ["staging"], makeDefault: false, Now, None);
        var third = await Storage.Templates.AddVersionAsync(template.Id, Guid.NewGuid(), Content("Ciao {{x}}"), [], makeDefault: true, Now, None);
        Assert.Equal((2, 3), (second!.Number, third!.Number));
        var after = (await Storage.Templates.GetAsync(template.Id, None))!;
        Assert.Equal((3, third.Id, second.Id), (after.VersionCount, after.DefaultVersionId, after.Labels["staging"]));
        Assert.Equal([3, 2, 1], (await Storage.Templates.ListVersionsAsync(template.Id, None)).Select(v => v.Number));
        Assert.Equal(second.Id, (await Storage.Templates.GetVersionByNumberAsync(template.Id, 2, None))!.Id);
        // The first version is unchanged by everything since.
        Assert.Equal(TemplateContentText(first.Content), TemplateContentText((await Storage.Templates.GetVersionAsync(template.Id, first.Id, None))!.Content));
        Assert.Null(await Storage.Templates.AddVersionAsync(Guid.NewGuid(), Guid.NewGuid(), Content("x"), [], false, Now, None));
    }

    [Fact]
    public async Task Versions_and_labels_belong_to_their_template()
    {
        var (a, aFirst) = await CreateTemplateAsync("a");
        var (b, bFirst) = await CreateTemplateAsync("b");
        Assert.Null(await Storage.Templates.GetVersionAsync(a.Id, bFirst.Id, None));
        Assert.False(await Storage.Templates.SetLabelAsync(a.Id, "production", bFirst.Id, Now, None));
        Assert.Null(await Storage.Templates.UpdateAsync(a.Id, "renamed", null, bFirst.Id, Now, None));
        var unchanged = (await Storage.Templates.GetAsync(a.Id, None))!;
        Assert.Equal(("a", aFirst.Id, aFirst.Id), (unchanged.Name, unchanged.DefaultVersionId, unchanged.Labels["production"]));

        Assert.True(await Storage.Templates.RemoveLabelAsync(a.Id, "production", Now, None));
        Assert.False(await Storage.Templates.RemoveLabelAsync(a.Id, "production", Now, None));
        Assert.True(await Storage.Templates.DeleteAsync(a.Id, None));
        Assert.Null(await Storage.Templates.GetVersionAsync(a.Id, aFirst.Id, None));
        Assert.Empty(await Storage.Templates.ListVersionsAsync(a.Id, None));
        Assert.False(await Storage.Templates.DeleteAsync(a.Id, None));
        Assert.NotNull(await Storage.Templates.GetVersionAsync(b.Id, bFirst.Id, None));
    }

    [Fact]
    public async Task A_template_run_reads_back_with_its_details_input_and_completed_moderation()
    {
        var policy = ModerationPolicy.FromWire("low", new Dictionary<string, string?> { ["violence"] = "high", ["self_harm"] = "off" });
        var run = new Run
        {
            Id = Ids.New(), Kind = RunKinds.TemplateRun, UserId = "u1", ModelId = "m", CreatedAt = Now, UpdatedAt = Now,
            Input = new RunInput
            {
                Prompt = "Hi Ann", Messages = [new ChatMessage("system", "S"), new ChatMessage("user", "Hi Ann")],
                Sampling = new SamplingParameters { Seed = 5 }, MaxTokens = 3, Moderation = new RunModeration(policy, ["Ann"]),
            },
        };
        var citation = new Citation("kb/doc/f", "kb", "doc", "f", "text/plain", "f.txt", null,
            [new CitationPartition("text", 0.5, 2, 1, Now, new Dictionary<string, IReadOnlyList<string>> { ["k"] = ["v"] })]);
        var details = new TemplateRunDetails
        {
            TemplateId = Guid.NewGuid(), VersionId = Guid.NewGuid(), VersionNumber = 4, MessageId = Guid.NewGuid(), Background = true,
            Replacements = new Dictionary<string, string> { ["name"] = "Ann", ["extra"] = "1" }, UnusedReplacements = ["extra"], Citations = [citation],
        };
        await Storage.TemplateRuns.SubmitAsync(run, details, None);

        var read = (await Storage.TemplateRuns.GetAsync(run.Id, None))!;
        Assert.Null(read.Completed);
        Assert.Equal((details.TemplateId, details.VersionId, 4, details.MessageId, true), (read.Details.TemplateId, read.Details.VersionId, read.Details.VersionNumber, read.Details.MessageId, read.Details.Background));
        Assert.Equal(details.Replacements, read.Details.Replacements);
        Assert.Equal(["extra"], read.Details.UnusedReplacements);
        var c = Assert.Single(read.Details.Citations);
        Assert.Equal((citation.Link, citation.SourceUrl, 0.5, Now, "v"), (c.Link, c.SourceUrl, c.Partitions[0].Relevance, c.Partitions[0].LastUpdate, c.Partitions[0].Tags["k"][0]));
        Assert.Equal(run.Input.Messages, read.Run.Input.Messages);
        Assert.Equal(["Ann"], read.Run.Input.Moderation!.Input);
        foreach (var category in ModerationNames.Categories) Assert.Equal(policy.ThresholdFor(category), read.Run.Input.Moderation.Policy.ThresholdFor(category));

        var claimed = await Storage.Runs.TryClaimAsync(run.Id, "node", Now, Now.AddMinutes(1));
        Assert.NotNull(claimed);
        IReadOnlyList<CategoryResult> results = [new(ModerationCategory.Hate, Severity.Low, true), new(ModerationCategory.Violence, Severity.High, false)];
        Assert.True(await Storage.Runs.CompleteAsync(new RunCompletion(run.Id, "node", "", FinishReason.ContentFilter, new EngineUsage(3, 0, 1.5, 2.5), null, Now, results)));
        var done = (await Storage.TemplateRuns.GetAsync(run.Id, None))!;
        Assert.Equal(results, done.Completed!.Moderation);
        Assert.Equal((3, 0, 1.5, 2.5), (done.Completed.Usage!.PromptTokens, done.Completed.Usage.CompletionTokens, done.Completed.Usage.TimeToFirstTokenMs, done.Completed.Usage.GenerationMs));
        Assert.Equal(FinishReason.ContentFilter, done.Run.FinishReason);
    }

    private static readonly (string Name, string Type, string Text)[] Corpus =
    [
        ("storage.md", "text/markdown", "# Storage\n\nPromptd keeps its state in one SQLite database file.\n\n## Backups\n\nCopy the database file while the server is stopped."),
        ("models.txt", "text/plain", "Model files\n\nPromptd loads GGUF model files with quantized tensors such as Q4_K."),
        ("pasta.html", "text/html", "<p>Boil the pasta for nine minutes; keep a cup of the water for the sauce.</p>"),
        ("mixed.md", "text/markdown", "# Files\n\nA database file, a model file and a recipe file walk into a bar."),
    ];

    private async Task<Guid> CreateKnowledgeBaseAsync()
    {
        var kb = new KnowledgeBase { Id = Guid.NewGuid(), UserId = "u1", Name = "kb", CreatedAt = Now };
        await Storage.KnowledgeBases.CreateAsync(kb, None);
        return kb.Id;
    }

    private static async Task<Dictionary<string, Guid>> IndexAsync(IKnowledgeIndexStore store, Guid kb)
    {
        var indexer = new KnowledgeIndexer(store, TextAnalyzer.English);
        var ids = new Dictionary<string, Guid>();
        var n = 1;
        foreach (var (name, type, text) in Corpus)
        {
            var id = new Guid(n++, 0, 0, new byte[8]);
            ids[name] = id;
            await indexer.IndexAsync(new DocumentInfo
            {
                KnowledgeBaseId = kb, DocumentId = id, FileId = name, SourceName = name, ContentType = "?", LastUpdate = Now,
                Tags = new Dictionary<string, IReadOnlyList<string>> { ["team"] = ["docs"] },
            }, type, Encoding.UTF8.GetBytes(text));
        }
        return ids;
    }

    [Theory]
    [InlineData("database file backup")]
    [InlineData("quantized model files")]
    [InlineData("pasta sauce water")]
    [InlineData("file")]
    [InlineData("nothing matches zzz")]
    public async Task Retrieval_over_the_stored_index_equals_retrieval_in_memory(string query)
    {
        var kb = await CreateKnowledgeBaseAsync();
        await IndexAsync(Storage.KnowledgeIndex, kb);
        var memory = new InMemoryKnowledgeIndexStore();
        await IndexAsync(memory, kb);

        var q = new RetrievalQuery(query, [kb]) { TopK = 10 };
        var stored = await new Bm25Retriever(Storage.KnowledgeIndex, TextAnalyzer.English).RetrieveAsync(q);
        var expected = await new Bm25Retriever(memory, TextAnalyzer.English).RetrieveAsync(q);
        Assert.Equal(
            expected.Select(r => (r.Document.SourceName, r.Partition.SectionNumber, r.Partition.PartitionNumber, r.Partition.Heading, r.Partition.Text, Math.Round(r.Relevance, 12))),
            stored.Select(r => (r.Document.SourceName, r.Partition.SectionNumber, r.Partition.PartitionNumber, r.Partition.Heading, r.Partition.Text, Math.Round(r.Relevance, 12))));
        Assert.All(stored, r => Assert.Equal(["docs"], r.Document.Tags["team"]));
    }

    [Fact]
    public async Task A_deleted_document_is_gone_from_the_next_retrieval_with_its_postings()
    {
        var kb = await CreateKnowledgeBaseAsync();
        var ids = await IndexAsync(Storage.KnowledgeIndex, kb);
        var retriever = new Bm25Retriever(Storage.KnowledgeIndex, TextAnalyzer.English);
        Assert.Contains(await retriever.RetrieveAsync(new RetrievalQuery("pasta", [kb])), r => r.Document.SourceName == "pasta.html");
        var before = await Storage.KnowledgeIndex.GetStatisticsAsync([kb]);
        Assert.Equal(3, (await Storage.KnowledgeIndex.GetPostingsAsync([kb], ["pasta", "boil", "sauc"])).Count);

        Assert.True(await Storage.KnowledgeIndex.DeleteDocumentAsync(kb, ids["pasta.html"]));
        Assert.Empty(await retriever.RetrieveAsync(new RetrievalQuery("pasta", [kb])));
        Assert.Empty(await Storage.KnowledgeIndex.GetPostingsAsync([kb], ["pasta", "boil", "sauc"]));
        Assert.Equal(before.PartitionCount - 1, (await Storage.KnowledgeIndex.GetStatisticsAsync([kb])).PartitionCount);
        Assert.False(await Storage.KnowledgeIndex.DeleteDocumentAsync(kb, ids["pasta.html"]));
        Assert.Equal(Corpus.Length - 1, (await Storage.KnowledgeIndex.ListDocumentsAsync(kb)).Count);
        Assert.Equal(Corpus.Length - 1, (await Storage.KnowledgeBases.GetAsync(kb, None))!.DocumentCount);
    }

    [Fact]
    public async Task Deleting_a_knowledge_base_deletes_its_documents_and_an_upload_into_a_missing_one_is_refused()
    {
        var kb = await CreateKnowledgeBaseAsync();
        var other = await CreateKnowledgeBaseAsync();
        await IndexAsync(Storage.KnowledgeIndex, kb);
        await IndexAsync(Storage.KnowledgeIndex, other);
        Assert.True(await Storage.KnowledgeBases.DeleteAsync(kb, None));
        Assert.Null(await Storage.KnowledgeBases.GetAsync(kb, None));
        Assert.Empty(await Storage.KnowledgeIndex.ListDocumentsAsync(kb));
        Assert.Equal(0, (await Storage.KnowledgeIndex.GetStatisticsAsync([kb])).PartitionCount);
        Assert.Empty(await Storage.KnowledgeIndex.GetPostingsAsync([kb], ["databas", "file"]));
        Assert.NotEmpty(await Storage.KnowledgeIndex.GetPostingsAsync([other], ["databas", "file"]));

        var e = await Assert.ThrowsAsync<DomainException>(() => IndexAsync(Storage.KnowledgeIndex, kb));
        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Empty(await Storage.KnowledgeIndex.ListDocumentsAsync(kb));
    }

    private static string TemplateContentText(TemplateVersionContent c) =>
        string.Join("|", c.ModelId, string.Join(";", c.Messages), c.Parameters.MaxTokens, string.Join(";", c.Parameters.Stop), c.Parameters.Sampling,
            string.Join(";", c.KnowledgeBaseIds), ModerationPolicy.ThresholdToWire(c.Moderation.Threshold),
            string.Join(";", ModerationNames.Categories.Select(x => ModerationPolicy.ThresholdToWire(c.Moderation.ThresholdFor(x)))));
}

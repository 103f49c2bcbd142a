using System.Text.Json;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.Hyperleap;

/// <summary>
/// Knowledge bases through HTTP: uploaded documents are retrieved for runs of a version that names
/// their knowledge base, put into the context with their numbers and returned as citations; deleting
/// a document removes it from the next run at once.
/// </summary>
public sealed class CitationTests(CitationTests.Fixture fixture) : IClassFixture<CitationTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override PromptdServerOptions Configure(PromptdServerOptions options)
        {
            HyperleapModels.WriteTiny(options.DataDirectory);
            return options with { MaxDocumentBytes = 4096 };
        }
    }

    private TestServer S => fixture.Server;

    private const string Install = """
        # Install

        ## Linux

        Use apt to install promptd on Debian and Ubuntu: apt install promptd. The package starts a systemd service.

        ## Windows

        Download the installer and run it; Windows asks for administrator rights once.
        """;

    private const string Pasta = "Boil the pasta in salted water for nine minutes, then drain it and stir in the sauce.";

    private const string Moderation = "<h1>Moderation</h1><p>Hateful and violent input ends the run before the model is called.</p>";

    private static async Task<(HyperleapClient Hl, string Kb, Dictionary<string, string> Docs, string PromptId)> SetUpAsync(TestServer s)
    {
        var hl = await HyperleapClient.NewUserAsync(s);
        var kb = await hl.CreateKnowledgeBaseAsync("handbook");
        var docs = new Dictionary<string, string>();
        foreach (var (name, type, text) in new[] { ("install.md", "text/markdown", Install), ("pasta.txt", "text/plain", Pasta), ("moderation.html", "text/html; charset=utf-8", Moderation) })
        {
            var uploaded = (await hl.UploadAsync(kb, name, type, text)).ExpectStatus(201).Json;
            docs[name] = uploaded.GetProperty("documentId").GetString()!;
        }
        var prompt = await hl.CreateSimplePromptAsync(HyperleapModels.Tiny, knowledgeBaseIds: [kb], system: "Answer from the sources.", user: "{{question}}");
        return (hl, kb, docs, prompt.GetProperty("id").GetString()!);
    }

    [Fact]
    public async Task A_run_cites_the_document_and_partition_that_answer_it_best_first_and_the_context_numbers_them()
    {
        var (hl, kb, docs, promptId) = await SetUpAsync(S);
        var events = await hl.RunSseAsync(new { promptId, replacements = new { question = "How do I install promptd on Linux with apt?" }, stream = true });
        var final = events[^1];
        var citations = final.GetProperty("citations");

        var first = citations[0];
        Assert.Equal("install.md", first.GetProperty("sourceName").GetString());
        Assert.Equal(docs["install.md"], first.GetProperty("documentId").GetString());
        Assert.Equal(kb, first.GetProperty("index").GetString());
        Assert.Equal($"{kb}/{docs["install.md"]}/install.md", first.GetProperty("link").GetString());
        Assert.Equal("install.md", first.GetProperty("fileId").GetString());
        Assert.Equal("text/markdown", first.GetProperty("sourceContentType").GetString());
        var best = first.GetProperty("partitions")[0];
        Assert.Contains("apt install promptd", best.GetProperty("text").GetString());
        // "Install" holds no text of its own: Linux is the first section and partition, Windows the second.
        Assert.Equal(1, best.GetProperty("sectionNumber").GetInt32());
        Assert.Equal(1, best.GetProperty("partitionNumber").GetInt32());

        // Relevance in [0, 1], best first: across documents by their best partition, within a document descending.
        var bests = citations.EnumerateArray().Select(c => c.GetProperty("partitions")[0].GetProperty("relevance").GetDouble()).ToList();
        Assert.Equal(bests.OrderByDescending(r => r), bests);
        foreach (var c in citations.EnumerateArray())
        {
            var relevances = c.GetProperty("partitions").EnumerateArray().Select(p => p.GetProperty("relevance").GetDouble()).ToList();
            Assert.Equal(relevances.OrderByDescending(r => r), relevances);
            Assert.All(relevances, r => Assert.InRange(r, 0.0, 1.0));
        }
        Assert.DoesNotContain(citations.EnumerateArray(), c => c.GetProperty("sourceName").GetString() == "pasta.txt");

        // The context block went into the system message with the numbers the citations stand for.
        var record = await hl.RunRecordAsync(final.GetProperty("runId").GetString()!);
        var system = record.GetProperty("renderedPrompt")[0].GetProperty("content").GetString()!;
        Assert.StartsWith("Answer from the sources.\n\nUse the numbered sources below", system);
        Assert.Contains("[1] install.md — Install > Linux (section 1, partition 1)\nUse apt to install promptd", system);
        Assert.Equal(citations.GetRawText(), record.GetProperty("citations").GetRawText());
    }

    [Fact]
    public async Task Deleting_a_document_removes_it_from_the_next_runs_citations_at_once()
    {
        var (hl, kb, docs, promptId) = await SetUpAsync(S);
        var body = new { promptId, replacements = new { question = "install promptd with apt" }, stream = false };
        var before = await hl.RunSyncAsync(body);
        Assert.Contains(before.GetProperty("citations").EnumerateArray(), c => c.GetProperty("documentId").GetString() == docs["install.md"]);

        (await hl.Api.DeleteAsync($"/knowledge-bases/{kb}/documents/{docs["install.md"]}")).ExpectOk();
        var after = await hl.RunSyncAsync(body);
        Assert.DoesNotContain(after.GetProperty("citations").EnumerateArray(), c => c.GetProperty("documentId").GetString() == docs["install.md"]);
        var listed = (await hl.Api.GetAsync($"/knowledge-bases/{kb}/documents")).ExpectOk().Json.GetProperty("documents");
        Assert.Equal(["moderation.html", "pasta.txt"], listed.EnumerateArray().Select(d => d.GetProperty("sourceName").GetString()).Order());
        (await hl.Api.DeleteAsync($"/knowledge-bases/{kb}/documents/{docs["install.md"]}")).ExpectStatus(404);

        // Re-uploading under the same id brings it back, replaced.
        using var content = new StringContent("apt install promptd, version two", System.Text.Encoding.UTF8, "text/plain");
        (await hl.Api.Http.PutAsync($"/knowledge-bases/{kb}/documents/{docs["install.md"]}?name=install.txt", content)).EnsureSuccessStatusCode();
        var again = await hl.RunSyncAsync(body);
        var cited = again.GetProperty("citations").EnumerateArray().Single(c => c.GetProperty("documentId").GetString() == docs["install.md"]);
        Assert.Equal("install.txt", cited.GetProperty("sourceName").GetString());
        Assert.Equal("apt install promptd, version two", cited.GetProperty("partitions")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Documents_must_be_text_markdown_or_html_within_the_size_limit()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var kb = await hl.CreateKnowledgeBaseAsync();
        var pdf = await hl.UploadAsync(kb, "a.pdf", "application/pdf", "%PDF-1.7");
        pdf.ExpectStatus(415);
        Assert.Contains("text/plain, text/markdown or text/html", pdf.Json.GetProperty("error").GetString());
        (await hl.UploadAsync(kb, "a.txt", "text/plain; charset=klingon", "x")).ExpectStatus(415);
        (await hl.UploadAsync(kb, "big.txt", "text/plain", new string('a', 5000))).ExpectStatus(413);
        (await hl.UploadAsync(kb, "empty.txt", "text/plain", "   \n ")).ExpectStatus(400);

        using var latin = new ByteArrayContent([0x63, 0x61, 0x66, 0xE9]); // "café" in ISO-8859-1: not UTF-8
        latin.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain");
        Assert.Equal(400, (int)(await hl.Api.Http.PostAsync($"/knowledge-bases/{kb}/documents?name=latin.txt", latin)).StatusCode);
        Assert.Equal(0, (await hl.Api.GetAsync($"/knowledge-bases/{kb}/documents")).ExpectOk().Json.GetProperty("documents").GetArrayLength());
        Assert.Equal(0, (await hl.Api.GetAsync($"/knowledge-bases/{kb}")).ExpectOk().Json.GetProperty("documentCount").GetInt32());
    }

    [Fact]
    public async Task Another_users_knowledge_base_is_not_found_and_cannot_be_cited()
    {
        var owner = await HyperleapClient.NewUserAsync(S, "kb-owner");
        var other = await HyperleapClient.NewUserAsync(S, "kb-other");
        var kb = await owner.CreateKnowledgeBaseAsync();
        (await owner.UploadAsync(kb, "secret.txt", "text/plain", "the launch code is banana")).ExpectStatus(201);

        (await other.Api.GetAsync($"/knowledge-bases/{kb}")).ExpectStatus(404);
        (await other.Api.GetAsync($"/knowledge-bases/{kb}/documents")).ExpectStatus(404);
        (await other.UploadAsync(kb, "x.txt", "text/plain", "x")).ExpectStatus(404);
        (await other.Api.DeleteAsync($"/knowledge-bases/{kb}")).ExpectStatus(404);
        Assert.DoesNotContain((await other.Api.GetAsync("/knowledge-bases")).ExpectOk().Json.GetProperty("knowledgeBases").EnumerateArray(),
            k => k.GetProperty("id").GetString() == kb);
        var refused = await other.Api.PostAsync("/prompts", new
        {
            name = "thief", modelId = HyperleapModels.Tiny, messages = new[] { new { role = "user", content = "{{q}}" } }, knowledgeBaseIds = new[] { kb },
        });
        refused.ExpectStatus(400);
        Assert.Contains(kb, refused.Json.GetProperty("error").GetString());

        // Deleting the knowledge base deletes its documents with it.
        (await owner.Api.DeleteAsync($"/knowledge-bases/{kb}")).ExpectOk();
        (await owner.Api.GetAsync($"/knowledge-bases/{kb}/documents")).ExpectStatus(404);
        Assert.Equal(JsonValueKind.Array, (await S.Admin.GetAsync("/knowledge-bases")).ExpectOk().Json.GetProperty("knowledgeBases").ValueKind);
    }
}

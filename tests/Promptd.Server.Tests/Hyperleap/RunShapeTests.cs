using System.Text.Json;
using System.Text.Json.Nodes;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.Hyperleap;

/// <summary>
/// Every kind of run object — delta, final (length, stop), content_filter, error, the run-sync answer,
/// and a final event with citations — has exactly the reference's shape, on a generated GGUF model.
/// </summary>
public sealed class RunShapeTests(RunShapeTests.Fixture fixture) : IClassFixture<RunShapeTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override PromptdServerOptions Configure(PromptdServerOptions options)
        {
            HyperleapModels.WriteTiny(options.DataDirectory);
            return options;
        }
    }

    private TestServer S => fixture.Server;

    [Fact]
    public void The_comparison_fails_on_an_extra_missing_misspelled_or_mistyped_member()
    {
        var valid = JsonNode.Parse(ReferenceShape.RunObject)!;
        Assert.Empty(ReferenceShape.Differences(JsonDocument.Parse(valid.ToJsonString()).RootElement));

        static List<string> After(Action<JsonNode> change)
        {
            var node = JsonNode.Parse(ReferenceShape.RunObject)!;
            change(node);
            return ReferenceShape.Differences(JsonDocument.Parse(node.ToJsonString()).RootElement);
        }
        Assert.Contains("choice.message.extra: not in the reference", After(n => n["choice"]!["message"]!["extra"] = 1));
        Assert.Contains("usage.total_tokens: missing", After(n => n["usage"]!.AsObject().Remove("total_tokens")));
        var misspelled = After(n =>
        {
            var choice = n["choice"]!.AsObject();
            choice["finishReason"] = choice["finish_reason"]!.DeepClone();
            choice.Remove("finish_reason");
        });
        Assert.Contains("choice.finish_reason: missing", misspelled);
        Assert.Contains("choice.finishReason: not in the reference", misspelled);
        Assert.Contains("usage.prompt_tokens: expected a number, got String", After(n => n["usage"]!["prompt_tokens"] = "12"));
        Assert.Contains("citations[].partitions[].sectionNumber: missing",
            After(n => n["citations"]![0]!["partitions"]![0]!.AsObject().Remove("sectionNumber")));
        Assert.Contains("runId: expected a UUID, got 'run-1'", After(n => n["runId"] = "run-1"));
        Assert.Contains("usage: expected an object, got Null", After(n => n["usage"] = null));
        Assert.Contains("choice.index: expected an integer, got 0.5", After(n => n["choice"]!["index"] = 0.5));
    }

    [Fact]
    public async Task Deltas_carry_new_text_and_the_final_event_carries_finish_reason_usage_and_moderation()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var prompt = await hl.CreateSimplePromptAsync(HyperleapModels.Tiny, maxTokens: 6);
        var events = await hl.RunSseAsync(new { promptId = prompt.GetProperty("id").GetString(), replacements = new { text = "Hello the world" }, stream = true });

        Assert.True(events.Count >= 2, $"expected deltas and a final event, got {events.Count}");
        var (text, final) = HyperleapClient.Answer(events);
        foreach (var delta in events.Take(events.Count - 1))
        {
            Assert.NotEqual("", delta.GetProperty("choice").GetProperty("message").GetProperty("content").GetString());
            Assert.Equal(0, delta.GetProperty("usage").GetProperty("total_tokens").GetInt32());
            Assert.Equal(0, delta.GetProperty("citations").GetArrayLength());
        }
        var runId = final.GetProperty("runId").GetString()!;
        Assert.All(events, e => Assert.Equal(runId, e.GetProperty("runId").GetString()));
        Assert.All(events, e => Assert.Equal(final.GetProperty("messageId").GetString(), e.GetProperty("messageId").GetString()));
        Assert.Equal("assistant", final.GetProperty("choice").GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("", final.GetProperty("choice").GetProperty("message").GetProperty("content").GetString());

        var usage = final.GetProperty("usage");
        var finish = HyperleapClient.FinishReason(final);
        Assert.Contains(finish, new[] { "length", "stop" });
        if (finish == "length") Assert.Equal(6, usage.GetProperty("completion_tokens").GetInt32());
        Assert.True(usage.GetProperty("prompt_tokens").GetInt32() > 5);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(["hate", "sexual", "violence", "self_harm"], HyperleapClient.Moderation(final).Keys);

        var record = await hl.RunRecordAsync(runId);
        Assert.Equal(text, record.GetProperty("answer").GetString());
        Assert.Equal("completed", record.GetProperty("status").GetString());
        Assert.Equal(usage.GetProperty("completion_tokens").GetInt32(), record.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task A_stop_sequence_ends_the_answer_with_finish_reason_stop()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var prompt = await hl.CreateSimplePromptAsync(HyperleapModels.Tiny, maxTokens: 16);
        var promptId = prompt.GetProperty("id").GetString()!;
        var (full, _) = HyperleapClient.Answer(await hl.RunSseAsync(new { promptId, replacements = new { text = "Hello" }, stream = true }));
        Assert.True(full.Length >= 6, $"the greedy answer is too short to cut: '{full}'");
        var stop = full.Substring(full.Length / 2, 2);

        var v2 = (await hl.Api.PostAsync($"/prompts/{promptId}/versions", new
        {
            modelId = HyperleapModels.Tiny,
            messages = new object[] { new { role = "system", content = "You are terse." }, new { role = "user", content = "{{text}}" } },
            parameters = new { maxTokens = 16, temperature = 0, stop = new[] { stop } },
        })).ExpectStatus(201).Json;
        var events = await hl.RunSseAsync(new { promptId, promptVersionId = v2.GetProperty("id").GetString(), replacements = new { text = "Hello" }, stream = true });
        var (text, final) = HyperleapClient.Answer(events);
        Assert.Equal("stop", HyperleapClient.FinishReason(final));
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], text);
    }

    [Fact]
    public async Task A_filtered_input_ends_the_run_with_one_content_filter_event()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var prompt = await hl.CreateSimplePromptAsync(HyperleapModels.Tiny);
        var events = await hl.RunSseAsync(new { promptId = prompt.GetProperty("id").GetString(), replacements = new { text = "I will kill you." }, stream = true });

        var final = Assert.Single(events);
        Assert.Equal("content_filter", HyperleapClient.FinishReason(final));
        Assert.Equal("", final.GetProperty("choice").GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(0, final.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal(("high", true), HyperleapClient.Moderation(final)["violence"]);
        Assert.Equal(("safe", false), HyperleapClient.Moderation(final)["hate"]);
    }

    [Fact]
    public async Task A_run_whose_model_fails_ends_with_finish_reason_error_and_the_record_says_why()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var prompt = await hl.CreateSimplePromptAsync(HyperleapModels.Missing);
        var events = await hl.RunSseAsync(new { promptId = prompt.GetProperty("id").GetString(), replacements = new { text = "Hello" }, stream = true });

        var final = Assert.Single(events);
        Assert.Equal("error", HyperleapClient.FinishReason(final));
        var record = await hl.RunRecordAsync(final.GetProperty("runId").GetString()!);
        Assert.Equal("abandoned", record.GetProperty("status").GetString());
        Assert.Equal("error", record.GetProperty("finishReason").GetString());
        Assert.Contains("not installed", record.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Run_sync_and_a_stream_without_deltas_give_one_object_with_the_whole_answer()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var prompt = await hl.CreateSimplePromptAsync(HyperleapModels.Tiny, maxTokens: 8);
        var body = new { promptId = prompt.GetProperty("id").GetString(), replacements = new { text = "Hello world" }, stream = true };
        var (streamed, final) = HyperleapClient.Answer(await hl.RunSseAsync(body));

        // Greedy sampling: the same version and replacements give the same answer.
        var sync = await hl.RunSyncAsync(body);
        Assert.Equal(streamed, sync.GetProperty("choice").GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(HyperleapClient.FinishReason(final), HyperleapClient.FinishReason(sync));
        Assert.Equal(final.GetProperty("usage").GetRawText(), sync.GetProperty("usage").GetRawText());
        Assert.NotEqual(final.GetProperty("runId").GetString(), sync.GetProperty("runId").GetString());

        var single = await hl.RunSseAsync(new { promptId = prompt.GetProperty("id").GetString(), replacements = new { text = "Hello world" }, stream = false });
        var only = Assert.Single(single);
        Assert.Equal(streamed, only.GetProperty("choice").GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(HyperleapClient.FinishReason(final), HyperleapClient.FinishReason(only));
    }

    [Fact]
    public async Task A_final_event_with_citations_has_the_reference_shape_and_a_stream_resumes_after_its_last_event_id()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var kb = await hl.CreateKnowledgeBaseAsync();
        (await hl.UploadAsync(kb, "guide.md", "text/markdown", "# Guide\n\n## Bananas\n\nBananas are yellow fruit rich in potassium.",
            "&sourceUrl=https%3A%2F%2Fdocs.example%2Fguide&tag=team:docs&tag=team:fruit")).ExpectStatus(201);
        (await hl.UploadAsync(kb, "notes.txt", "text/plain", "Plain notes about bananas without a source address.")).ExpectStatus(201);
        var prompt = await hl.CreateSimplePromptAsync(HyperleapModels.Tiny, knowledgeBaseIds: [kb]);

        var events = await hl.RunSseAsync(new { promptId = prompt.GetProperty("id").GetString(), replacements = new { text = "bananas potassium" }, stream = true });
        var citations = events[^1].GetProperty("citations");
        Assert.Equal(2, citations.GetArrayLength());
        var guide = citations.EnumerateArray().Single(c => c.GetProperty("sourceName").GetString() == "guide.md");
        Assert.Equal("https://docs.example/guide", guide.GetProperty("sourceUrl").GetString());
        Assert.Equal(["docs", "fruit"], guide.GetProperty("partitions")[0].GetProperty("tags").GetProperty("team").EnumerateArray().Select(v => v.GetString()));
        var notes = citations.EnumerateArray().Single(c => c.GetProperty("sourceName").GetString() == "notes.txt");
        Assert.Equal(JsonValueKind.Null, notes.GetProperty("sourceUrl").ValueKind);

        // Re-attach with Last-Event-ID after the first event: exactly the rest, with the same ids.
        await using var first = await hl.OpenRunSseAsync(new { promptId = prompt.GetProperty("id").GetString(), replacements = new { text = "bananas" }, stream = true });
        var all = await first.ReadToEndAsync(TimeSpan.FromSeconds(30));
        HyperleapClient.CheckEvents(all);
        var runId = all[0].Json.GetProperty("runId").GetString();
        await using var resumed = await SseClient.OpenAsync(S.BaseUrl, hl.Key, $"/prompt-runs/{runId}/events", lastEventId: all[0].Id);
        var rest = await resumed.ReadToEndAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(all.Skip(1).Select(e => (e.Id, e.Data)), rest.Select(e => (e.Id, e.Data)));
    }
}

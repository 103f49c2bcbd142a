using System.Text.Json;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.Hyperleap;

/// <summary>Templates through HTTP: immutable versions, default version, labels and rollback, diffs, variables, ownership, lists.</summary>
public sealed class TemplateTests(TemplateTests.Fixture fixture) : IClassFixture<TemplateTests.Fixture>
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

    private static object Version(string user, float temperature = 0, string[]? labels = null, bool? makeDefault = null, string[]? stop = null) => new
    {
        modelId = HyperleapModels.Tiny,
        messages = new object[] { new { role = "system", content = "Be brief." }, new { role = "user", content = user } },
        parameters = new { maxTokens = 1, temperature, stop = stop ?? [] },
        labels = labels ?? [],
        makeDefault,
    };

    private static async Task<(HyperleapClient Hl, string Id, string V1)> CreateAsync(TestServer s, string user = "Hello {{name}}", string[]? labels = null)
    {
        var hl = await HyperleapClient.NewUserAsync(s);
        var created = await hl.CreatePromptAsync(new
        {
            name = "greeting", description = "says hello", modelId = HyperleapModels.Tiny,
            messages = new object[] { new { role = "system", content = "Be brief." }, new { role = "user", content = user } },
            parameters = new { maxTokens = 1, temperature = 0 }, labels = labels ?? [],
        });
        Assert.True(Guid.TryParse(created.GetProperty("id").GetString(), out _));
        Assert.Equal(created.GetProperty("defaultVersionId").GetString(), created.GetProperty("defaultVersion").GetProperty("id").GetString());
        return (hl, created.GetProperty("id").GetString()!, created.GetProperty("defaultVersionId").GetString()!);
    }

    /// <summary>The user message the run sent to the model.</summary>
    private static async Task<string> RenderedUserAsync(HyperleapClient hl, object runBody)
    {
        var result = await hl.RunSyncAsync(runBody);
        var record = await hl.RunRecordAsync(result.GetProperty("runId").GetString()!);
        return record.GetProperty("renderedPrompt")[1].GetProperty("content").GetString()!;
    }

    [Fact]
    public async Task Versions_are_immutable_and_each_run_uses_the_version_it_names()
    {
        var (hl, id, v1) = await CreateAsync(S);
        var v1Before = (await hl.Api.GetAsync($"/prompts/{id}/versions/{v1}")).ExpectOk().Body;

        var v2 = (await hl.Api.PostAsync($"/prompts/{id}/versions", Version("Goodbye {{name}}", temperature: 0.5f))).ExpectStatus(201).Json;
        Assert.Equal(2, v2.GetProperty("version").GetInt32());
        Assert.False(v2.GetProperty("isDefault").GetBoolean());
        var v2Id = v2.GetProperty("id").GetString()!;

        Assert.Equal(v1Before, (await hl.Api.GetAsync($"/prompts/{id}/versions/{v1}")).ExpectOk().Body);
        Assert.Equal(v1Before, (await hl.Api.GetAsync($"/prompts/{id}/versions/1")).ExpectOk().Body);
        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Patch, HttpMethod.Delete })
        {
            (await hl.Api.SendAsync(method, $"/prompts/{id}/versions/{v1}", "{\"messages\":[]}")).ExpectStatus(405);
        }
        Assert.Equal(v1Before, (await hl.Api.GetAsync($"/prompts/{id}/versions/{v1}")).ExpectOk().Body);

        var versions = (await hl.Api.GetAsync($"/prompts/{id}/versions")).ExpectOk().Json.GetProperty("versions");
        Assert.Equal([2, 1], versions.EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));

        // No version: the default (still version 1); a version id: that version; "latest": the newest.
        Assert.Equal("Hello Ann", await RenderedUserAsync(hl, new { promptId = id, replacements = new { name = "Ann" } }));
        Assert.Equal("Goodbye Ann", await RenderedUserAsync(hl, new { promptId = id, promptVersionId = v2Id, replacements = new { name = "Ann" } }));
        Assert.Equal("Goodbye Ann", await RenderedUserAsync(hl, new { promptId = id, label = "latest", replacements = new { name = "Ann" } }));

        var record = await hl.RunRecordAsync((await hl.RunSyncAsync(new { promptId = id, promptVersionId = v2Id, replacements = new { name = "Ann" } }))
            .GetProperty("runId").GetString()!);
        Assert.Equal(v2Id, record.GetProperty("promptVersionId").GetString());
        Assert.Equal(2, record.GetProperty("promptVersion").GetInt32());
        Assert.Equal(0.5, record.GetProperty("parameters").GetProperty("temperature").GetDouble(), 6);
        Assert.True(record.GetProperty("parameters").GetProperty("seed").GetUInt64() >= 0, "a run records the seed it used");
        Assert.Equal(HyperleapModels.Tiny, record.GetProperty("modelId").GetString());
        Assert.True(record.GetProperty("timings").GetProperty("generationMs").GetDouble() >= 0);

        // Making version 2 the default changes what a run without a version uses.
        var patched = (await hl.Api.SendAsync(HttpMethod.Patch, $"/prompts/{id}", JsonSerializer.Serialize(new { defaultVersionId = v2Id }))).ExpectOk().Json;
        Assert.Equal(v2Id, patched.GetProperty("defaultVersionId").GetString());
        Assert.Equal("Goodbye Bo", await RenderedUserAsync(hl, new { promptId = id, replacements = new { name = "Bo" } }));
    }

    [Fact]
    public async Task Labels_move_between_versions_and_a_rollback_moves_one_back()
    {
        var (hl, id, v1) = await CreateAsync(S, labels: ["production"]);
        var v2 = (await hl.Api.PostAsync($"/prompts/{id}/versions", Version("Hi there {{name}}", labels: ["staging"]))).ExpectStatus(201).Json;
        var v2Id = v2.GetProperty("id").GetString()!;
        var run = new { promptId = id, label = "production", replacements = new { name = "Cy" } };
        Assert.Equal("Hello Cy", await RenderedUserAsync(hl, run));
        Assert.Equal("Hi there Cy", await RenderedUserAsync(hl, new { promptId = id, label = "staging", replacements = new { name = "Cy" } }));

        // Release: production → version 2.
        var released = (await hl.Api.PutAsync($"/prompts/{id}/labels/production", new { versionId = v2Id })).ExpectOk().Json;
        Assert.Equal(v2Id, released.GetProperty("labels").GetProperty("production").GetString());
        Assert.Equal("Hi there Cy", await RenderedUserAsync(hl, run));
        var labels = (await hl.Api.GetAsync($"/prompts/{id}/versions/{v2Id}")).ExpectOk().Json.GetProperty("labels");
        Assert.Equal(["production", "staging"], labels.EnumerateArray().Select(l => l.GetString()));

        // Rollback: production → version 1 (named by its number); the versions themselves are untouched.
        (await hl.Api.PutAsync($"/prompts/{id}/labels/production", new { versionId = "1" })).ExpectOk();
        Assert.Equal("Hello Cy", await RenderedUserAsync(hl, run));
        Assert.Equal(v1, (await hl.Api.GetAsync($"/prompts/{id}/versions/production")).ExpectOk().Json.GetProperty("id").GetString());

        (await hl.Api.DeleteAsync($"/prompts/{id}/labels/staging")).ExpectOk();
        (await hl.Api.PostAsync("/prompt-runs/run-sync", new { promptId = id, label = "staging", replacements = new { name = "Cy" } })).ExpectStatus(404);
        Assert.Equal(2, (await hl.Api.GetAsync($"/prompts/{id}/versions")).ExpectOk().Json.GetProperty("versions").GetArrayLength());
    }

    [Fact]
    public async Task A_diff_lists_what_changed_between_two_versions()
    {
        var (hl, id, _) = await CreateAsync(S);
        (await hl.Api.PostAsync($"/prompts/{id}/versions", Version("Hello {{name}} from {{city}}", temperature: 0.7f, stop: ["\n"]))).ExpectStatus(201);
        var diff = (await hl.Api.GetAsync($"/prompts/{id}/diff?from=1&to=latest")).ExpectOk().Json;
        Assert.Equal(1, diff.GetProperty("fromVersion").GetInt32());
        Assert.Equal(2, diff.GetProperty("toVersion").GetInt32());
        var changes = diff.GetProperty("changes").EnumerateArray()
            .Select(c => (c.GetProperty("path").GetString(), c.GetProperty("kind").GetString(), c.GetProperty("before").ToString(), c.GetProperty("after").ToString()))
            .ToList();
        Assert.Equal(
        [
            ("messages[1].content", "changed", "Hello {{name}}", "Hello {{name}} from {{city}}"),
            ("variables", "added", "", "city"),
            ("parameters.temperature", "changed", "0", "0.7"),
            ("parameters.stop", "added", "", "\n"),
        ], changes);
        Assert.Empty((await hl.Api.GetAsync($"/prompts/{id}/diff?from=2&to=latest")).ExpectOk().Json.GetProperty("changes").EnumerateArray());
    }

    [Fact]
    public async Task A_missing_variable_is_a_400_naming_it_an_extra_one_is_recorded_and_values_stay_literal()
    {
        var (hl, id, _) = await CreateAsync(S, user: "{{greeting}}, {{name}}! {{ greeting }}");
        var missing = await hl.Api.PostAsync("/prompt-runs/run-sse", new { promptId = id, replacements = new { Greeting = "Hi" }, stream = true });
        missing.ExpectStatus(400);
        var error = missing.Json.GetProperty("error").GetString()!;
        Assert.Contains("'greeting'", error);
        Assert.Contains("'name'", error);
        Assert.Contains("case-sensitive", error);

        var result = await hl.RunSyncAsync(new { promptId = id, replacements = new Dictionary<string, object> { ["greeting"] = "Hi {{name}}", ["name"] = 42, ["mood"] = "happy" } });
        var record = await hl.RunRecordAsync(result.GetProperty("runId").GetString()!);
        Assert.Equal("Hi {{name}}, 42! Hi {{name}}", record.GetProperty("renderedPrompt")[1].GetProperty("content").GetString());
        Assert.Equal(["mood"], record.GetProperty("unusedReplacements").EnumerateArray().Select(u => u.GetString()));
        Assert.Equal("happy", record.GetProperty("replacements").GetProperty("mood").GetString());
    }

    [Fact]
    public async Task Another_users_template_is_not_found_while_admins_see_all()
    {
        var (owner, id, v1) = await CreateAsync(S);
        var other = await HyperleapClient.NewUserAsync(S, "intruder");
        foreach (var path in new[] { $"/prompts/{id}", $"/prompts/{id}/versions", $"/prompts/{id}/versions/{v1}", $"/prompts/{id}/diff?from=1&to=1" })
        {
            (await other.Api.GetAsync(path)).ExpectStatus(404);
        }
        (await other.Api.PostAsync("/prompt-runs/run-sync", new { promptId = id, replacements = new { name = "x" } })).ExpectStatus(404);
        (await other.Api.PostAsync($"/prompts/{id}/versions", Version("mine now"))).ExpectStatus(404);
        (await other.Api.PutAsync($"/prompts/{id}/labels/production", new { versionId = v1 })).ExpectStatus(404);
        (await other.Api.DeleteAsync($"/prompts/{id}")).ExpectStatus(404);
        Assert.Empty((await other.Api.GetAsync("/prompts")).ExpectOk().Json.GetProperty("prompts").EnumerateArray());

        var run = await owner.RunSyncAsync(new { promptId = id, replacements = new { name = "x" } });
        (await other.Api.GetAsync($"/prompt-runs/{run.GetProperty("runId").GetString()}")).ExpectStatus(404);
        Assert.Empty((await other.Api.GetAsync("/prompt-runs")).ExpectOk().Json.GetProperty("runs").EnumerateArray());

        (await S.Admin.GetAsync($"/prompts/{id}")).ExpectOk();
        (await S.Admin.GetAsync($"/prompt-runs/{run.GetProperty("runId").GetString()}")).ExpectOk();
        Assert.Equal(1, (await owner.Api.GetAsync($"/prompts/{id}/versions")).ExpectOk().Json.GetProperty("versions").GetArrayLength());
    }

    [Fact]
    public async Task Templates_and_runs_are_listed_with_the_query_language()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var ids = new List<string>();
        foreach (var name in new[] { "alpha summary", "beta summary", "gamma" })
        {
            ids.Add((await hl.CreatePromptAsync(new
            {
                name, modelId = HyperleapModels.Tiny, messages = new[] { new { role = "user", content = "{{x}}" } }, parameters = new { maxTokens = 1 },
            })).GetProperty("id").GetString()!);
        }
        var found = (await hl.Api.PostAsync("/prompts/search", new
        {
            query = new { filters = new[] { new { fields = new[] { "name" }, op = "containsSubstring", values = new[] { "summary" } } }, orderBys = new[] { new { field = "name", desc = true } }, count = true },
        })).ExpectOk().Json;
        Assert.Equal(["beta summary", "alpha summary"], found.GetProperty("prompts").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(2, found.GetProperty("count").GetInt32());

        for (var i = 0; i < 3; i++) await hl.RunSyncAsync(new { promptId = ids[0], replacements = new { x = $"run {i}" } });
        await hl.RunSyncAsync(new { promptId = ids[1], replacements = new { x = "I will kill you." } });

        var page1 = (await hl.Api.PostAsync("/prompt-runs/search", new
        {
            query = new
            {
                filters = new[] { new { fields = new[] { "promptId" }, op = "equals", values = new[] { ids[0] } } },
                orderBys = new[] { new { field = "createdAt", desc = true } }, limit = 2, count = true,
            },
        })).ExpectOk().Json;
        Assert.Equal(2, page1.GetProperty("runs").GetArrayLength());
        Assert.Equal(3, page1.GetProperty("count").GetInt32());
        var page2 = (await hl.Api.PostAsync("/prompt-runs/search", new
        {
            query = new
            {
                filters = new[] { new { fields = new[] { "promptId" }, op = "equals", values = new[] { ids[0] } } },
                orderBys = new[] { new { field = "createdAt", desc = true } }, limit = 2, after = page1.GetProperty("after"),
            },
        })).ExpectOk().Json;
        Assert.Single(page2.GetProperty("runs").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, page2.GetProperty("after").ValueKind);
        var all = page1.GetProperty("runs").EnumerateArray().Concat(page2.GetProperty("runs").EnumerateArray()).Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.Equal(3, all.Distinct().Count());

        var filtered = (await hl.Api.PostAsync("/prompt-runs/search", new
        {
            query = new { filters = new[] { new { fields = new[] { "finishReason" }, op = "equals", values = new[] { "content_filter" } } } },
        })).ExpectOk().Json.GetProperty("runs");
        Assert.Equal(ids[1], Assert.Single(filtered.EnumerateArray()).GetProperty("promptId").GetString());
        (await hl.Api.PostAsync("/prompt-runs/search", new { query = new { filters = new[] { new { fields = new[] { "answer; DROP TABLE runs" }, op = "equals", values = new[] { "x" } } } } }))
            .ExpectStatus(400);
    }

    [Fact]
    public async Task Deleting_a_template_keeps_its_runs()
    {
        var (hl, id, _) = await CreateAsync(S);
        var run = await hl.RunSyncAsync(new { promptId = id, replacements = new { name = "Di" } });
        (await hl.Api.DeleteAsync($"/prompts/{id}")).ExpectOk();
        (await hl.Api.GetAsync($"/prompts/{id}")).ExpectStatus(404);
        (await hl.Api.GetAsync($"/prompts/{id}/versions/1")).ExpectStatus(404);
        Assert.Equal(id, (await hl.RunRecordAsync(run.GetProperty("runId").GetString()!)).GetProperty("promptId").GetString());
    }
}

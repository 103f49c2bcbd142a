using System.Text.Json;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests;

/// <summary>
/// The list query language over 1,000 prompts of one user (createdAt values shared by ten prompts
/// each) and 50 of another, with the scheduler paused so every field stays as created.
/// </summary>
public sealed class QueryTests(QueryTests.Data data) : IClassFixture<QueryTests.Data>
{
    public sealed class Data : IAsyncLifetime
    {
        public const int AliceCount = 1000;
        public const int BobCount = 50;
        private static readonly string[] Fruits = ["apple", "banana", "cherry", "date"];
        private static readonly string[] Models = ["promptd/echo", "promptd/echo/5ms", "promptd/test/hang"];

        public TestServer Server { get; private set; } = null!;
        public Api Alice { get; private set; } = null!;
        public Api Bob { get; private set; } = null!;
        public string AliceId { get; private set; } = "";

        /// <summary>What was submitted for prompt k of Alice.</summary>
        public static (string Prompt, string Model, string? Thread, string? Template, int MaxRetries, bool Canceled) Spec(int k) =>
            ($"prompt {k:D4} {Fruits[k % 4]}", Models[k % 3], k % 4 == 0 ? null : $"qt-{k % 5}",
             k % 2 == 0 ? null : (k % 7 == 0 ? "<s>{prompt}" : "[INST]{prompt}[/INST]"), k % 6, k % 10 == 3);

        public async Task InitializeAsync()
        {
            var clock = new ManualClock(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
            Server = await TestServer.StartAsync(o =>
            {
                o.Scheduler.Paused = true;
                return o with { Time = clock };
            });
            var (alice, aliceId) = await Server.CreateUserAsync("alice");
            (Alice, AliceId) = (alice, aliceId);
            (Bob, _) = await Server.CreateUserAsync("bob");
            for (var group = 0; group < AliceCount / 10; group++)
            {
                await Task.WhenAll(Enumerable.Range(group * 10, 10).Select(async k =>
                {
                    var s = Spec(k);
                    (await Alice.PostAsync("/prompt-svc/prompt", new
                    {
                        id = $"a-{k:D4}", prompt = s.Prompt, modelId = s.Model, threadId = s.Thread, template = s.Template, maxRetries = s.MaxRetries,
                    })).ExpectOk();
                }));
                clock.Advance(TimeSpan.FromMilliseconds(1));
            }
            for (var k = 0; k < AliceCount; k++)
            {
                if (Spec(k).Canceled) (await Alice.DeleteAsync($"/prompt-svc/prompt/a-{k:D4}")).ExpectOk();
                if (k % 50 == 0) clock.Advance(TimeSpan.FromMilliseconds(1));
            }
            for (var k = 0; k < BobCount; k++)
                (await Bob.PostAsync("/prompt-svc/prompt", new { id = $"b-{k:D3}", prompt = $"bob {k} banana", modelId = "promptd/echo" })).ExpectOk();
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }

    private static async Task<JsonElement> ListAsync(Api api, object query) =>
        (await api.PostAsync("/prompt-svc/prompts", new { query })).ExpectOk().Json;

    private static int CountWhere(Func<int, bool> predicate) => Enumerable.Range(0, Data.AliceCount).Count(predicate);

    public static TheoryData<string, bool> Orders()
    {
        var d = new TheoryData<string, bool>();
        foreach (var f in new[] { "createdAt", "updatedAt", "id", "prompt", "modelId", "threadId", "template", "status", "sync", "runCount", "maxRetries", "lastRun", "error", "userId" })
        {
            d.Add(f, false);
            d.Add(f, true);
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task Paging_returns_every_prompt_exactly_once_in_order(string field, bool desc)
    {
        var seen = new List<JsonElement>();
        object? after = null;
        var page = 0;
        while (true)
        {
            // Alternate the cursor spellings: jsonAfter (JSON text) and after (the array as returned).
            object query = after is null
                ? new { orderBys = new[] { new { field, desc } }, limit = 37 }
                : page % 2 == 0
                    ? new { orderBys = new[] { new { field, desc } }, limit = 37, jsonAfter = JsonSerializer.Serialize(after) }
                    : new { orderBys = new[] { new { field, desc } }, limit = 37, after };
            var r = await ListAsync(data.Alice, query);
            var prompts = r.GetProperty("prompts").EnumerateArray().ToList();
            seen.AddRange(prompts);
            page++;
            if (r.GetProperty("after").ValueKind == JsonValueKind.Null) break;
            Assert.Equal(37, prompts.Count);
            after = r.GetProperty("after").Clone();
            Assert.True(page < 100, "paging does not end");
        }
        var ids = seen.Select(p => p.GetProperty("id").GetString()!).ToList();
        Assert.Equal(Data.AliceCount, ids.Count);
        Assert.Equal(Data.AliceCount, ids.Distinct().Count());
        for (var i = 1; i < seen.Count; i++)
        {
            var c = Compare(seen[i - 1], seen[i], field);
            Assert.True(desc ? c > 0 : c < 0, $"rows {i - 1} and {i} out of order by {field}");
        }
    }

    /// <summary>Compares (field, id) the way the server orders: absent as "", text by ordinal, numbers by value.</summary>
    private static int Compare(JsonElement a, JsonElement b, string field)
    {
        int c;
        if (field is "runCount" or "maxRetries") c = a.GetProperty(field).GetInt32().CompareTo(b.GetProperty(field).GetInt32());
        else if (field == "sync") c = a.GetProperty(field).GetBoolean().CompareTo(b.GetProperty(field).GetBoolean());
        else c = string.CompareOrdinal(Text(a, field), Text(b, field));
        return c != 0 ? c : string.CompareOrdinal(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
    }

    private static string Text(JsonElement e, string field) => e.TryGetProperty(field, out var v) ? v.GetString()! : "";

    [Fact]
    public async Task Many_prompts_share_a_createdAt()
    {
        var r = await ListAsync(data.Alice, new { limit = 1000 });
        var groups = r.GetProperty("prompts").EnumerateArray().GroupBy(p => p.GetProperty("createdAt").GetString()).ToList();
        Assert.Equal(100, groups.Count);
        Assert.All(groups, g => Assert.Equal(10, g.Count()));
    }

    public static TheoryData<string, object, int> Filters() => new()
    {
        { "equals", new { fields = new[] { "modelId" }, op = "equals", jsonValues = "[\"promptd/echo/5ms\"]" }, CountWhere(k => k % 3 == 1) },
        { "equals several", new { fields = new[] { "modelId" }, op = "equals", values = new[] { "promptd/echo", "promptd/test/hang" } }, CountWhere(k => k % 3 != 1) },
        { "containsSubstring", new { fields = new[] { "prompt" }, op = "containsSubstring", valuesJson = "[\"banana\"]" }, CountWhere(k => k % 4 == 1) },
        { "startsWith", new { fields = new[] { "prompt" }, op = "startsWith", values = new[] { "prompt 00" } }, 100 },
        { "startsWith on time", new { fields = new[] { "createdAt" }, op = "startsWith", values = new[] { "2026-01-02T03:04:05.00" } }, 100 },
        { "isInList", new { fields = new[] { "maxRetries" }, op = "isInList", values = new object[] { 1, 2 } }, CountWhere(k => k % 6 is 1 or 2) },
        { "intersects", new { fields = new[] { "status" }, op = "intersects", values = new[] { "canceled", "completed" } }, CountWhere(k => k % 10 == 3) },
        { "boolean", new { fields = new[] { "sync" }, op = "equals", values = new object[] { false } }, 1000 },
        { "null never equals", new { fields = new[] { "threadId" }, op = "equals", values = new[] { "" } }, 0 },
        { "fields OR", new { fields = new[] { "threadId", "modelId" }, op = "startsWith", values = new[] { "qt-2", "promptd/test" } },
            CountWhere(k => Data.Spec(k).Thread == "qt-2" || k % 3 == 2) },
        { "hostile value is only a value", new { fields = new[] { "prompt" }, op = "containsSubstring", values = new[] { "'; DROP TABLE runs; --" } }, 0 },
        { "LIKE wildcards are literal", new { fields = new[] { "prompt" }, op = "containsSubstring", values = new[] { "%" } }, 0 },
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task Each_op_filters_and_count_ignores_limit(string name, object filter, int expected)
    {
        var r = await ListAsync(data.Alice, new { filters = new[] { filter }, count = true, limit = 5 });
        Assert.True(expected == r.GetProperty("count").GetInt32(), $"{name}: expected {expected}, got {r.GetProperty("count").GetInt32()}");
        Assert.Equal(Math.Min(5, expected), r.GetProperty("prompts").GetArrayLength());
    }

    [Fact]
    public async Task Filters_AND_together_and_every_match_satisfies_all()
    {
        var r = await ListAsync(data.Alice, new
        {
            filters = new object[]
            {
                new { fields = new[] { "modelId" }, op = "equals", values = new[] { "promptd/echo" } },
                new { fields = new[] { "prompt" }, op = "containsSubstring", values = new[] { "apple" } },
            },
            count = true,
            limit = 1000,
        });
        var expected = CountWhere(k => k % 3 == 0 && k % 4 == 0);
        Assert.Equal(expected, r.GetProperty("count").GetInt32());
        Assert.Equal(expected, r.GetProperty("prompts").GetArrayLength());
        Assert.All(r.GetProperty("prompts").EnumerateArray(), p =>
        {
            Assert.Equal("promptd/echo", p.GetProperty("modelId").GetString());
            Assert.Contains("apple", p.GetProperty("prompt").GetString());
        });
    }

    [Fact]
    public async Task Count_ignores_the_cursor_and_limit_defaults_to_20()
    {
        var first = await ListAsync(data.Alice, new { count = true });
        Assert.Equal(20, first.GetProperty("prompts").GetArrayLength());
        Assert.Equal(Data.AliceCount, first.GetProperty("count").GetInt32());
        var second = await ListAsync(data.Alice, new { count = true, afterJson = JsonSerializer.Serialize(first.GetProperty("after")) });
        Assert.Equal(Data.AliceCount, second.GetProperty("count").GetInt32());
        Assert.NotEqual(first.GetProperty("prompts")[0].GetProperty("id").GetString(), second.GetProperty("prompts")[0].GetProperty("id").GetString());
        // Without count: reported as 0 (not computed).
        Assert.Equal(0, (await ListAsync(data.Alice, new { })).GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Randomize_returns_every_match_in_a_random_order()
    {
        var a = await ListAsync(data.Alice, new { orderBys = new[] { new { randomize = true } }, limit = 1000 });
        var b = await ListAsync(data.Alice, new { orderBys = new[] { new { randomize = true } }, limit = 1000 });
        var idsA = a.GetProperty("prompts").EnumerateArray().Select(p => p.GetProperty("id").GetString()).ToList();
        var idsB = b.GetProperty("prompts").EnumerateArray().Select(p => p.GetProperty("id").GetString()).ToList();
        Assert.Equal(1000, idsA.Distinct().Count());
        Assert.Equal(idsA.Order(), idsB.Order());
        Assert.NotEqual(idsA, idsB);
        Assert.Equal(JsonValueKind.Null, a.GetProperty("after").ValueKind);
    }

    [Fact]
    public async Task Other_users_prompts_are_invisible_and_the_admin_sees_everyone()
    {
        var bob = await ListAsync(data.Bob, new { count = true, limit = 1000 });
        Assert.Equal(Data.BobCount, bob.GetProperty("count").GetInt32());
        Assert.All(bob.GetProperty("prompts").EnumerateArray(), p => Assert.StartsWith("b-", p.GetProperty("id").GetString()));
        var aliceBanana = await ListAsync(data.Alice, new { filters = new[] { new { fields = new[] { "prompt" }, op = "containsSubstring", values = new[] { "bob" } } }, count = true });
        Assert.Equal(0, aliceBanana.GetProperty("count").GetInt32());
        var byUser = await ListAsync(data.Alice, new { filters = new[] { new { fields = new[] { "id" }, op = "startsWith", values = new[] { "b-" } } }, count = true });
        Assert.Equal(0, byUser.GetProperty("count").GetInt32());

        var all = await ListAsync(data.Server.Admin, new { count = true });
        Assert.Equal(Data.AliceCount + Data.BobCount, all.GetProperty("count").GetInt32());
        var onlyAlice = await ListAsync(data.Server.Admin, new { filters = new[] { new { fields = new[] { "userId" }, op = "equals", values = new[] { data.AliceId } } }, count = true });
        Assert.Equal(Data.AliceCount, onlyAlice.GetProperty("count").GetInt32());
    }
}

using Promptd.Core;
using Promptd.Core.Engines;
using Promptd.Core.Runs;
using Promptd.Core.Storage;
using Promptd.Core.Users;

namespace Promptd.Storage.Tests;

/// <summary>Records what storage publishes after commits.</summary>
public sealed class RecordingSink : IRunEventSink
{
    private readonly List<RunEvent> _events = [];

    public void Publish(RunEvent committed)
    {
        lock (_events) _events.Add(committed);
    }

    public List<RunEvent> Events
    {
        get
        {
            lock (_events) return [.. _events];
        }
    }
}

/// <summary>
/// What every <see cref="IPromptdStorage"/> must do. SQLite runs it now (<see cref="SqliteStorageContractTests"/>);
/// a PostgreSQL implementation derives from it too.
/// </summary>
public abstract class StorageContractTests : IAsyncLifetime
{
    protected RecordingSink Sink { get; } = new();
    protected IPromptdStorage Storage { get; set; } = null!;

    protected abstract Task<IPromptdStorage> OpenAsync(IRunEventSink sink);

    public async Task InitializeAsync() => Storage = await OpenAsync(Sink);

    public async Task DisposeAsync() => await Storage.DisposeAsync();

    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Run NewRun(string id, string? thread = null) => new()
    {
        Id = id, Kind = RunKinds.QueuedPrompt, UserId = "u1", ThreadId = thread, ModelId = "m", MaxRetries = 2,
        Input = new RunInput { Prompt = "question " + id, Sampling = new SamplingParameters { Temperature = 0.5f }, Stop = ["\n"] },
        CreatedAt = T0, UpdatedAt = T0, RequestHash = "h",
    };

    [Fact]
    public async Task A_submitted_run_reads_back_unchanged_and_a_second_submit_returns_the_first()
    {
        var created = await Storage.Runs.SubmitAsync(NewRun("r1"), CancellationToken.None);
        Assert.True(created.Created);
        var again = await Storage.Runs.SubmitAsync(NewRun("r1") with { Input = new RunInput { Prompt = "other" } }, CancellationToken.None);
        Assert.False(again.Created);
        var read = await Storage.Runs.GetAsync("r1", CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal("question r1", read.Input.Prompt);
        Assert.Equal(0.5f, read.Input.Sampling.Temperature);
        Assert.Equal(new[] { "\n" }, read.Input.Stop);
        Assert.Equal(RunStatus.Scheduled, read.Status);
        Assert.Equal(T0, read.CreatedAt);
        Assert.Equal(created.Run.Seq, read.Seq);
    }

    [Fact]
    public async Task Claim_complete_appends_events_in_order_and_publishes_them_after_commit()
    {
        await Storage.Runs.SubmitAsync(NewRun("r2", thread: "t2"), CancellationToken.None);
        var claimed = await Storage.Runs.TryClaimAsync("r2", "node-a", T0, T0.AddSeconds(30));
        Assert.NotNull(claimed);
        Assert.Equal(1, claimed.RunCount);
        Assert.Null(await Storage.Runs.TryClaimAsync("r2", "node-b", T0, T0.AddSeconds(30)));

        Storage.Events.Append(new RunEvent { RunId = "r2", ThreadId = "t2", Type = RunEventType.Delta, Text = "hel" }, "node-a");
        Storage.Events.Append(new RunEvent { RunId = "r2", ThreadId = "t2", Type = RunEventType.Delta, Text = "lo" }, "node-a");
        Storage.Events.Append(new RunEvent { RunId = "r2", ThreadId = "t2", Type = RunEventType.Delta, Text = "ignored" }, "node-b");
        Assert.False(await Storage.Runs.CompleteAsync(new RunCompletion("r2", "node-b", "x", FinishReason.Stop, new EngineUsage(1, 1), "m-x", T0)));
        Assert.True(await Storage.Runs.CompleteAsync(new RunCompletion("r2", "node-a", "hello", FinishReason.Stop, new EngineUsage(3, 2), "m-2", T0)));

        var events = await Storage.Events.ReadRunAsync("r2", 0, 100, CancellationToken.None);
        Assert.Equal(new[] { RunEventType.Started, RunEventType.Delta, RunEventType.Delta, RunEventType.Completed }, events.Select(e => e.Type).ToArray());
        Assert.Equal(new[] { 1, 2, 3, 4 }, events.Select(e => e.Seq).ToArray());
        Assert.Equal("m-2", events[^1].MessageId);
        Assert.Equal(new EngineUsage(3, 2), events[^1].Usage);
        Assert.Equal(events.Select(e => e.Id), Sink.Events.Where(e => e.RunId == "r2").Select(e => e.Id));
        Assert.Equal(events.Select(e => e.Id), (await Storage.Events.ReadThreadAsync("t2", 0, 100, CancellationToken.None)).Select(e => e.Id));

        var run = await Storage.Runs.GetAsync("r2", CancellationToken.None);
        Assert.Equal(RunStatus.Completed, run!.Status);
        Assert.Equal("hello", run.Answer);
        Assert.Null(run.LeaseOwner);
        var messages = await Storage.Threads.ListMessagesAsync("t2", CancellationToken.None);
        Assert.Equal(new[] { ("user", "question r2"), ("assistant", "hello") }, messages.Select(m => (m.Role, m.Content)).ToArray());
    }

    [Fact]
    public async Task A_failed_attempt_is_errored_with_its_retry_time_or_abandoned()
    {
        await Storage.Runs.SubmitAsync(NewRun("r3"), CancellationToken.None);
        await Storage.Runs.TryClaimAsync("r3", "n", T0, T0.AddSeconds(30));
        var errored = await Storage.Runs.FailAttemptAsync(new RunFailure("r3", "n", "boom", T0.AddSeconds(1), T0));
        Assert.Equal(RunStatus.Errored, errored!.Status);
        Assert.Equal(T0.AddSeconds(1), errored.NextAttemptAt);
        Assert.Contains(await Storage.Runs.ListPendingAsync(CancellationToken.None), r => r.Id == "r3");
        await Storage.Runs.TryClaimAsync("r3", "n", T0, T0.AddSeconds(30));
        var abandoned = await Storage.Runs.FailAttemptAsync(new RunFailure("r3", "n", "boom again", null, T0));
        Assert.Equal(RunStatus.Abandoned, abandoned!.Status);
        Assert.Equal(2, abandoned.RunCount);
        Assert.Null(await Storage.Runs.FailAttemptAsync(new RunFailure("r3", "n", "late", null, T0)));
        Assert.DoesNotContain(await Storage.Runs.ListPendingAsync(CancellationToken.None), r => r.Id == "r3");
    }

    [Fact]
    public async Task Cancel_wins_over_a_running_attempt_and_later_writes_of_that_attempt_are_dropped()
    {
        await Storage.Runs.SubmitAsync(NewRun("r4"), CancellationToken.None);
        await Storage.Runs.TryClaimAsync("r4", "n", T0, T0.AddSeconds(30));
        Assert.Equal(CancelOutcome.Canceled, await Storage.Runs.CancelAsync("r4", T0));
        Assert.Equal(CancelOutcome.AlreadyCanceled, await Storage.Runs.CancelAsync("r4", T0));
        Storage.Events.Append(new RunEvent { RunId = "r4", Type = RunEventType.Delta, Text = "late" }, "n");
        Assert.False(await Storage.Runs.CompleteAsync(new RunCompletion("r4", "n", "late", FinishReason.Stop, new EngineUsage(1, 1), null, T0)));
        var events = await Storage.Events.ReadRunAsync("r4", 0, 100, CancellationToken.None);
        Assert.Equal(new[] { RunEventType.Started, RunEventType.Canceled }, events.Select(e => e.Type).ToArray());
        Assert.Equal(CancelOutcome.NotFound, await Storage.Runs.CancelAsync("nope", T0));
    }

    [Fact]
    public async Task Expired_leases_put_runs_back_in_the_queue_and_renewal_reports_lost_ones()
    {
        await Storage.Runs.SubmitAsync(NewRun("r5"), CancellationToken.None);
        await Storage.Runs.SubmitAsync(NewRun("r6"), CancellationToken.None);
        await Storage.Runs.TryClaimAsync("r5", "dead", T0, T0.AddSeconds(1));
        await Storage.Runs.TryClaimAsync("r6", "alive", T0, T0.AddSeconds(1));
        Assert.Empty(await Storage.Runs.RenewLeasesAsync("alive", ["r6"], T0.AddSeconds(60)));
        var requeued = await Storage.Runs.RequeueExpiredLeasesAsync(T0.AddSeconds(2));
        Assert.Equal("r5", Assert.Single(requeued).Id);
        Assert.Equal(RunStatus.Scheduled, requeued[0].Status);
        Assert.Equal(new[] { "r5" }, await Storage.Runs.RenewLeasesAsync("dead", ["r5"], T0.AddSeconds(60)));
        var again = await Storage.Runs.TryClaimAsync("r5", "alive", T0.AddSeconds(3), T0.AddSeconds(33));
        Assert.Equal(2, again!.RunCount);
    }

    [Fact]
    public async Task One_failing_write_does_not_undo_the_others_committed_with_it()
    {
        var at = DateTimeOffset.UtcNow;
        await Storage.Users.CreateUserAsync(new User { Id = "dup", Name = "first", CreatedAt = at }, CancellationToken.None);
        var writes = Enumerable.Range(0, 50)
            .Select(i => Storage.Users.CreateUserAsync(new User { Id = i == 25 ? "dup" : $"u-{i}", Name = "n", CreatedAt = at }, CancellationToken.None))
            .ToList();
        await Assert.ThrowsAnyAsync<Exception>(() => writes[25]);
        for (var i = 0; i < 50; i++)
        {
            if (i != 25) await writes[i];
        }
        var users = await Storage.Users.ListUsersAsync(CancellationToken.None);
        Assert.Equal(50, users.Count);
        Assert.Equal("first", users.Single(u => u.Id == "dup").Name);
    }

    [Fact]
    public async Task The_first_admin_is_created_once()
    {
        var at = DateTimeOffset.UtcNow;
        var admin = new User { Id = "a1", Name = "admin", IsAdmin = true, CreatedAt = at };
        var key = new ApiKeyRecord { Id = "k1", UserId = "a1", Prefix = "pd_", CreatedAt = at };
        Assert.True(await Storage.Users.CreateFirstAdminAsync(admin, key, "hash-1", CancellationToken.None));
        Assert.False(await Storage.Users.CreateFirstAdminAsync(admin with { Id = "a2" }, key with { Id = "k2", UserId = "a2" }, "hash-2", CancellationToken.None));
        Assert.Equal("a1", (await Storage.Users.FindByKeyHashAsync("hash-1", CancellationToken.None))!.Id);
        Assert.Null(await Storage.Users.FindByKeyHashAsync("hash-2", CancellationToken.None));
    }
}

using System.Security.Cryptography;
using System.Text;
using Promptd.Core.Engines.Resolution;
using Promptd.Core.Runs;
using Promptd.Core.Scheduling;
using Promptd.Core.Storage;
using Promptd.Core.Users;

namespace Promptd.Core.Prompts;

/// <summary>
/// The queued-prompt use cases: accept (idempotently by client id), read, list and cancel. A
/// queued prompt becomes a run of kind <see cref="RunKinds.QueuedPrompt"/> and goes to the scheduler.
/// </summary>
public sealed class QueuedPromptService(IPromptdStorage storage, Scheduler scheduler, IEngineResolver engines, TimeProvider time)
{
    public const int DefaultMaxRetries = 10;
    public const int MaxMaxRetries = 100;
    public const int MaxPromptChars = 200_000;
    public const int MaxTemplateChars = 20_000;

    /// <summary>The stored run and whether this call created it (false: an identical earlier submission).</summary>
    public sealed record Submitted(Run Run, bool Created);

    public async Task<Submitted> SubmitAsync(QueuedPromptRequest request, Caller caller, CancellationToken cancellationToken)
    {
        Validate(request);
        var modelId = request.ModelId ?? engines.DefaultModelId
            ?? throw DomainException.Invalid("modelId is required: this server has no default model (put a GGUF file under DATA/models or pass --default-model)");
        if (!engines.IsKnown(modelId)) throw DomainException.Invalid($"unknown modelId '{Shorten(modelId)}'");
        if (request.ThreadId is { } threadId)
        {
            var thread = await storage.Threads.GetAsync(threadId, cancellationToken);
            if (thread is not null && !caller.CanSee(thread.UserId)) throw DomainException.NotFound($"thread '{threadId}' not found");
        }

        var now = Timestamps.Truncate(time.GetUtcNow());
        var id = request.Id ?? Ids.New();
        var run = new Run
        {
            Id = id,
            Kind = RunKinds.QueuedPrompt,
            UserId = caller.UserId,
            ThreadId = request.ThreadId,
            ModelId = modelId,
            Input = new RunInput { Prompt = request.Prompt, Template = request.Template },
            Sync = request.Sync,
            Status = RunStatus.Scheduled,
            MaxRetries = request.MaxRetries ?? DefaultMaxRetries,
            CreatedAt = now,
            UpdatedAt = now,
            RequestHash = Hash(request),
        };
        var result = await storage.Runs.SubmitAsync(run, cancellationToken);
        if (result.Created)
        {
            scheduler.Enqueue(result.Run);
            return new Submitted(result.Run, true);
        }
        var existing = result.Run;
        if (existing.Kind != RunKinds.QueuedPrompt || existing.UserId != caller.UserId || existing.RequestHash != run.RequestHash)
            throw DomainException.Conflict($"a prompt with id '{id}' already exists with a different body");
        return new Submitted(existing, false);
    }

    public async Task<Run> GetAsync(string id, Caller caller, CancellationToken cancellationToken)
    {
        var run = await storage.Runs.GetAsync(id, cancellationToken);
        if (run is null || run.Kind != RunKinds.QueuedPrompt || !caller.CanSee(run.UserId)) throw DomainException.NotFound($"prompt '{Shorten(id)}' not found");
        return run;
    }

    public async Task<Run> CancelAsync(string id, Caller caller, CancellationToken cancellationToken)
    {
        await GetAsync(id, caller, cancellationToken);
        var outcome = await storage.Runs.CancelAsync(id, time.GetUtcNow());
        if (outcome == CancelOutcome.Canceled) scheduler.OnCanceled(id);
        var run = await GetAsync(id, caller, cancellationToken);
        if (outcome == CancelOutcome.AlreadyFinished)
            throw DomainException.Conflict($"prompt '{id}' is already {run.Status.ToWire()}");
        return run;
    }

    public Task<Query.QueryPage<Run>> ListAsync(Query.Query query, Caller caller, CancellationToken cancellationToken) =>
        storage.Runs.QueryAsync(query, RunKinds.QueuedPrompt, caller.OwnerFilter, cancellationToken);

    private static void Validate(QueuedPromptRequest r)
    {
        if (r.Id is { } id && !Ids.IsValidClientId(id)) throw DomainException.Invalid("id must be 1-128 characters of letters, digits and -_.:");
        if (string.IsNullOrWhiteSpace(r.Prompt)) throw DomainException.Invalid("prompt must not be empty");
        if (r.Prompt.Length > MaxPromptChars) throw DomainException.Invalid($"prompt is longer than {MaxPromptChars} characters");
        if (r.ThreadId is { } t && !Ids.IsValidClientId(t)) throw DomainException.Invalid("threadId must be 1-128 characters of letters, digits and -_.:");
        if (r.MaxRetries is < 0 or > MaxMaxRetries) throw DomainException.Invalid($"maxRetries must be between 0 and {MaxMaxRetries}");
        if (r.ModelId is { Length: 0 or > 512 }) throw DomainException.Invalid("modelId must be 1-512 characters");
        if (r.Template is { } template)
        {
            if (template.Length > MaxTemplateChars) throw DomainException.Invalid($"template is longer than {MaxTemplateChars} characters");
            if (!template.Contains(EngineRequestBuilder.Placeholder, StringComparison.Ordinal))
                throw DomainException.Invalid("template must contain {prompt}");
        }
    }

    /// <summary>Identity of a submission, to tell a retry of the same request from a different one reusing the id.</summary>
    private static string Hash(QueuedPromptRequest r)
    {
        var text = string.Join('\u001f', r.Prompt, r.ModelId ?? "\u0000", r.Template ?? "\u0000", r.ThreadId ?? "\u0000",
            r.MaxRetries?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "\u0000", r.Sync ? "1" : "0");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "…";
}

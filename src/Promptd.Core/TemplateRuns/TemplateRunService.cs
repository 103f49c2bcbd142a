using System.Security.Cryptography;
using Promptd.Core.Engines;
using Promptd.Core.Knowledge.Retrieval;
using Promptd.Core.Runs;
using Promptd.Core.Scheduling;
using Promptd.Core.Storage;
using Promptd.Core.Templates;
using Promptd.Core.Users;

namespace Promptd.Core.TemplateRuns;

/// <summary>A request to run a template version. <see cref="Version"/> null: the template's default version.</summary>
public sealed record TemplateRunRequest
{
    public required Guid TemplateId { get; init; }
    /// <summary>A version id, number, label, <c>default</c> or <c>latest</c>.</summary>
    public string? Version { get; init; }
    public IReadOnlyDictionary<string, string> Replacements { get; init; } = new Dictionary<string, string>();
    public bool Background { get; init; }
    /// <summary>The caller waits for the whole answer (run-sync).</summary>
    public bool Sync { get; init; }
}

/// <summary>How runs use knowledge bases.</summary>
public sealed record RetrievalOptions
{
    /// <summary>Partitions retrieved per run.</summary>
    public int TopK { get; init; } = 5;
    /// <summary>At most this many words of retrieved text go into the context.</summary>
    public int ContextWords { get; init; } = 1000;
}

/// <summary>
/// Runs of template versions. A run is prepared when it is asked for: the version's messages are
/// rendered with the replacements (a missing variable is a 400 naming it), the knowledge bases are
/// searched and the best partitions put into the context with their numbers, and a seed is fixed so
/// the run can be repeated. It then goes to the one scheduler as a run of kind
/// <see cref="RunKinds.TemplateRun"/>; the attempt moderates the input before calling the model and
/// the output as it streams. Runs are not retried (a client is waiting on the stream).
/// </summary>
public sealed class TemplateRunService(
    IPromptdStorage storage, Scheduler scheduler, TemplateService templates, IRetriever retriever, RetrievalOptions retrieval, TimeProvider time)
{
    public async Task<TemplateRun> StartAsync(TemplateRunRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var template = await templates.GetAsync(request.TemplateId, caller, cancellationToken);
        var version = await templates.ResolveAsync(template, request.Version ?? VersionReference.Default, cancellationToken);
        var content = version.Content;
        var parsed = PromptTemplate.Parse(content.Messages);
        RenderedPrompt rendered;
        try
        {
            rendered = parsed.Render(request.Replacements);
        }
        catch (MissingTemplateVariablesException e)
        {
            throw DomainException.Invalid(e.Message);
        }

        // What the caller supplied and the model will see: moderated, and the retrieval query.
        var input = new List<string>(parsed.Variables.Count);
        foreach (var name in parsed.Variables) input.Add(request.Replacements[name]);

        var messages = new List<ChatMessage>(rendered.Messages);
        IReadOnlyList<Citation> citations = [];
        if (content.KnowledgeBaseIds.Count > 0)
        {
            var query = input.Count > 0 ? string.Join('\n', input) : UserText(rendered.Messages);
            var found = await retriever.RetrieveAsync(new RetrievalQuery(query, content.KnowledgeBaseIds) { TopK = retrieval.TopK }, cancellationToken);
            var block = ContextBlock.Format(found, retrieval.ContextWords);
            if (block.Sources.Count > 0)
            {
                AddContext(messages, block.Text);
                citations = Citations.FromRetrieved(block.Sources);
            }
        }

        var sampling = content.Parameters.Sampling;
        if (sampling.Seed is null) sampling = sampling with { Seed = (ulong)RandomNumberGenerator.GetInt32(int.MaxValue) };
        var now = Timestamps.Truncate(time.GetUtcNow());
        var run = new Run
        {
            Id = Ids.New(),
            Kind = RunKinds.TemplateRun,
            UserId = caller.UserId,
            ModelId = content.ModelId,
            Input = new RunInput
            {
                Prompt = LastUserText(rendered.Messages),
                Messages = messages,
                Sampling = sampling,
                MaxTokens = content.Parameters.MaxTokens,
                Stop = content.Parameters.Stop,
                Moderation = new RunModeration(content.Moderation, input),
            },
            Sync = request.Sync,
            Status = RunStatus.Scheduled,
            MaxRetries = 0,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var details = new TemplateRunDetails
        {
            TemplateId = template.Id, VersionId = version.Id, VersionNumber = version.Number, MessageId = Guid.CreateVersion7(),
            Background = request.Background, Replacements = request.Replacements, UnusedReplacements = rendered.UnusedReplacements, Citations = citations,
        };
        var stored = await storage.TemplateRuns.SubmitAsync(run, details, cancellationToken);
        scheduler.Enqueue(stored);
        return new TemplateRun(stored, details, null);
    }

    public async Task<TemplateRun> GetAsync(string runId, Caller caller, CancellationToken cancellationToken)
    {
        var run = await storage.TemplateRuns.GetAsync(runId, cancellationToken);
        if (run is null || !caller.CanSee(run.Run.UserId)) throw DomainException.NotFound($"run '{TemplateValidation.Shorten(runId)}' not found");
        return run;
    }

    public Task<Query.QueryPage<TemplateRun>> ListAsync(Query.Query query, Caller caller, CancellationToken cancellationToken) =>
        storage.TemplateRuns.QueryAsync(query, caller.OwnerFilter, cancellationToken);

    /// <summary>Cancels a run that has not finished; a finished one is a 409.</summary>
    public async Task<TemplateRun> CancelAsync(string runId, Caller caller, CancellationToken cancellationToken)
    {
        await GetAsync(runId, caller, cancellationToken);
        var outcome = await CancelRunAsync(runId);
        var run = await GetAsync(runId, caller, cancellationToken);
        if (outcome == CancelOutcome.AlreadyFinished) throw DomainException.Conflict($"run '{runId}' is already {run.Run.Status.ToWire()}");
        return run;
    }

    /// <summary>Cancels without the checks of a request: the client of a foreground run went away.</summary>
    public async Task<CancelOutcome> CancelRunAsync(string runId)
    {
        var outcome = await storage.Runs.CancelAsync(runId, time.GetUtcNow());
        if (outcome == CancelOutcome.Canceled) scheduler.OnCanceled(runId);
        return outcome;
    }

    /// <summary>The numbered sources go into the first system message (or a new one before the rest): every chat template accepts a system message first.</summary>
    private static void AddContext(List<ChatMessage> messages, string context)
    {
        if (messages.Count > 0 && messages[0].Role == "system") messages[0] = messages[0] with { Content = messages[0].Content + "\n\n" + context };
        else messages.Insert(0, new ChatMessage("system", context));
    }

    private static string UserText(IReadOnlyList<ChatMessage> messages)
    {
        var parts = new List<string>();
        foreach (var m in messages)
        {
            if (m.Role == "user") parts.Add(m.Content);
        }
        return string.Join('\n', parts);
    }

    private static string LastUserText(IReadOnlyList<ChatMessage> messages)
    {
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            if (messages[i].Role == "user") return messages[i].Content;
        }
        return "";
    }
}

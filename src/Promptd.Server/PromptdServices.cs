using Promptd.Core.Engines.Embedded;
using Promptd.Core.Engines.Resolution;
using Promptd.Core.Knowledge;
using Promptd.Core.Engines.Upstream;
using Promptd.Core.Models;
using Promptd.Core.Prompts;
using Promptd.Core.Runs;
using Promptd.Core.Scheduling;
using Promptd.Core.Storage;
using Promptd.Core.TemplateRuns;
using Promptd.Core.Templates;
using Promptd.Core.Threads;
using Promptd.Core.Users;

namespace Promptd.Server;

/// <summary>
/// The composed application: one storage, one scheduler, one event hub, and the use-case services
/// every dialect's endpoints call. A new dialect maps its routes with this object.
/// </summary>
public sealed class PromptdServices
{
    public required PromptdServerOptions Options { get; init; }
    public required IPromptdStorage Storage { get; init; }
    public required RunEventHub Hub { get; init; }
    public required RunEventStream EventStream { get; init; }
    public required EngineRegistry Engines { get; init; }
    /// <summary>The in-process GGUF engine (model load state, memory).</summary>
    public required EmbeddedEngine Embedded { get; init; }
    /// <summary>The models offered (GGUF files, upstream and diagnostic models) with their state and settings; resolves ids for the scheduler.</summary>
    public required ModelRegistry Models { get; init; }
    /// <summary>The OpenAI-compatible servers' models; null when none is configured.</summary>
    public UpstreamEngine? Upstream { get; init; }
    /// <summary>Downloads models into the models folder (<c>POST /models/pull</c>).</summary>
    public required ModelPuller Puller { get; init; }
    public required Scheduler Scheduler { get; init; }
    public required QueuedPromptService QueuedPrompts { get; init; }
    public required ThreadService Threads { get; init; }
    public required UserService Users { get; init; }
    public required TemplateService Templates { get; init; }
    public required TemplateRunService TemplateRuns { get; init; }
    public required KnowledgeBaseService KnowledgeBases { get; init; }

    /// <summary>Fires when the server begins to stop: long-lived requests (streams, sync waits) end then.</summary>
    public required CancellationToken Stopping { get; init; }
}

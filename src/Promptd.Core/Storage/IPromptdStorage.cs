namespace Promptd.Core.Storage;

/// <summary>
/// Everything Promptd keeps. SQLite implements it now; PostgreSQL will implement the same
/// interfaces and run the same tests.
/// </summary>
public interface IPromptdStorage : IAsyncDisposable
{
    IRunStore Runs { get; }
    IRunEventStore Events { get; }
    IThreadStore Threads { get; }
    IUserStore Users { get; }
    ITemplateStore Templates { get; }
    ITemplateRunStore TemplateRuns { get; }
    IKnowledgeBaseStore KnowledgeBases { get; }
    /// <summary>The documents of every knowledge base: partitions and their inverted index.</summary>
    Knowledge.Index.IKnowledgeIndexStore KnowledgeIndex { get; }

    /// <summary>Cheap round trip to the database, for /readyz.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);
}

using Promptd.Core.Knowledge;

namespace Promptd.Core.Storage;

/// <summary>Knowledge bases (their documents live in the <see cref="Knowledge.Index.IKnowledgeIndexStore"/>).</summary>
public interface IKnowledgeBaseStore
{
    Task CreateAsync(KnowledgeBase knowledgeBase, CancellationToken cancellationToken);

    /// <summary>The knowledge base with its current document count.</summary>
    Task<KnowledgeBase?> GetAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>Knowledge bases, newest first; <paramref name="userId"/> null means every user's.</summary>
    Task<IReadOnlyList<KnowledgeBase>> ListAsync(string? userId, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes the knowledge base and every document of it in one transaction; false when it did not exist.</summary>
    Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken);
}

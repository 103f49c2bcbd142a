using Promptd.Core.Threads;

namespace Promptd.Core.Storage;

public interface IThreadStore
{
    /// <summary>Inserts a thread; false when the id is taken.</summary>
    Task<bool> CreateAsync(ChatThread thread, CancellationToken cancellationToken);
    Task<ChatThread?> GetAsync(string id, CancellationToken cancellationToken);
    /// <summary>Changes the title; false when the thread does not exist.</summary>
    Task<bool> UpdateAsync(string id, string title, DateTimeOffset now, CancellationToken cancellationToken);
    /// <summary>Deletes the thread and its messages; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);
    /// <summary>Threads newest first; <paramref name="userId"/> null means everyone's.</summary>
    Task<IReadOnlyList<ChatThread>> ListAsync(string? userId, int limit, CancellationToken cancellationToken);

    /// <summary>Inserts a message; false when the id is taken or the thread is gone.</summary>
    Task<bool> AddMessageAsync(ThreadMessage message, CancellationToken cancellationToken);
    Task<ThreadMessage?> GetMessageAsync(string id, CancellationToken cancellationToken);
    Task<IReadOnlyList<ThreadMessage>> ListMessagesAsync(string threadId, CancellationToken cancellationToken);
    Task<bool> DeleteMessageAsync(string id, CancellationToken cancellationToken);

    /// <summary>The thread's messages before the question of run <paramref name="runId"/>: that run's context.</summary>
    Task<IReadOnlyList<ThreadMessage>> HistoryBeforeRunAsync(string threadId, string runId, CancellationToken cancellationToken);
}

using Promptd.Core.Storage;
using Promptd.Core.Users;

namespace Promptd.Core.Threads;

/// <summary>Thread and message use cases with ownership: another user's thread or message is "not found".</summary>
public sealed class ThreadService(IPromptdStorage storage, TimeProvider time)
{
    public const int MaxTitleChars = 1000;
    public const int MaxContentChars = 200_000;
    public const int MaxListed = 1000;

    public async Task<ChatThread> CreateAsync(string? id, string? title, Caller caller, CancellationToken cancellationToken)
    {
        if (id is not null && !Ids.IsValidClientId(id)) throw DomainException.Invalid("thread.id must be 1-128 characters of letters, digits and -_.:");
        CheckTitle(title);
        var now = Timestamps.Truncate(time.GetUtcNow());
        var thread = new ChatThread { Id = id ?? Ids.New(), UserId = caller.UserId, Title = title ?? "", CreatedAt = now, UpdatedAt = now };
        if (!await storage.Threads.CreateAsync(thread, cancellationToken)) throw DomainException.Conflict($"a thread with id '{thread.Id}' already exists");
        return thread;
    }

    public async Task<ChatThread> GetAsync(string id, Caller caller, CancellationToken cancellationToken)
    {
        var thread = await storage.Threads.GetAsync(id, cancellationToken);
        if (thread is null || !caller.CanSee(thread.UserId)) throw DomainException.NotFound($"thread '{Shorten(id)}' not found");
        return thread;
    }

    public async Task<ChatThread> UpdateAsync(string id, string? title, Caller caller, CancellationToken cancellationToken)
    {
        CheckTitle(title);
        await GetAsync(id, caller, cancellationToken);
        await storage.Threads.UpdateAsync(id, title ?? "", Timestamps.Truncate(time.GetUtcNow()), cancellationToken);
        return await GetAsync(id, caller, cancellationToken);
    }

    public async Task DeleteAsync(string id, Caller caller, CancellationToken cancellationToken)
    {
        await GetAsync(id, caller, cancellationToken);
        await storage.Threads.DeleteAsync(id, cancellationToken);
    }

    public Task<IReadOnlyList<ChatThread>> ListAsync(Caller caller, CancellationToken cancellationToken) =>
        storage.Threads.ListAsync(caller.OwnerFilter, MaxListed, cancellationToken);

    public async Task<ThreadMessage> AddMessageAsync(string threadId, string? id, string? role, string content, Caller caller, CancellationToken cancellationToken)
    {
        if (id is not null && !Ids.IsValidClientId(id)) throw DomainException.Invalid("message.id must be 1-128 characters of letters, digits and -_.:");
        role ??= MessageRoles.User;
        if (!MessageRoles.IsValid(role)) throw DomainException.Invalid("message.role must be user, assistant or system");
        if (content.Length > MaxContentChars) throw DomainException.Invalid($"message.content is longer than {MaxContentChars} characters");
        await GetAsync(threadId, caller, cancellationToken);
        var now = Timestamps.Truncate(time.GetUtcNow());
        var message = new ThreadMessage
        {
            Id = id ?? Ids.New(), ThreadId = threadId, Role = role, Content = content,
            UserId = role == MessageRoles.User ? caller.UserId : null, CreatedAt = now, UpdatedAt = now,
        };
        if (!await storage.Threads.AddMessageAsync(message, cancellationToken)) throw DomainException.Conflict($"a message with id '{message.Id}' already exists");
        return await storage.Threads.GetMessageAsync(message.Id, cancellationToken) ?? message;
    }

    public async Task<IReadOnlyList<ThreadMessage>> ListMessagesAsync(string threadId, Caller caller, CancellationToken cancellationToken)
    {
        await GetAsync(threadId, caller, cancellationToken);
        return await storage.Threads.ListMessagesAsync(threadId, cancellationToken);
    }

    public async Task<ThreadMessage> GetMessageAsync(string id, Caller caller, CancellationToken cancellationToken)
    {
        var message = await storage.Threads.GetMessageAsync(id, cancellationToken);
        var thread = message is null ? null : await storage.Threads.GetAsync(message.ThreadId, cancellationToken);
        if (message is null || thread is null || !caller.CanSee(thread.UserId)) throw DomainException.NotFound($"message '{Shorten(id)}' not found");
        return message;
    }

    public async Task DeleteMessageAsync(string id, Caller caller, CancellationToken cancellationToken)
    {
        await GetMessageAsync(id, caller, cancellationToken);
        await storage.Threads.DeleteMessageAsync(id, cancellationToken);
    }

    private static void CheckTitle(string? title)
    {
        if (title is { Length: > MaxTitleChars }) throw DomainException.Invalid($"thread.title is longer than {MaxTitleChars} characters");
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "…";
}

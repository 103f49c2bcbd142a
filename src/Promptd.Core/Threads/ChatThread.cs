namespace Promptd.Core.Threads;

/// <summary>A conversation owned by one user; its messages are the context of the runs posted to it.</summary>
public sealed record ChatThread
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public string Title { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>
/// One message of a thread. A queued prompt adds its question (role "user") when it is accepted
/// and its answer (role "assistant", <see cref="UserId"/> null) when its run completes.
/// </summary>
public sealed record ThreadMessage
{
    /// <summary>Order within the database; a thread's messages are ordered by it.</summary>
    public long Seq { get; init; }
    public required string Id { get; init; }
    public required string ThreadId { get; init; }
    public required string Role { get; init; }
    public required string Content { get; init; }
    /// <summary>Author; null for model answers.</summary>
    public string? UserId { get; init; }
    /// <summary>The run that asked (user message) or answered (assistant message), if any.</summary>
    public string? RunId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public static class MessageRoles
{
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string System = "system";

    public static bool IsValid(string role) => role is User or Assistant or System;
}

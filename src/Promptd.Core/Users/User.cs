namespace Promptd.Core.Users;

public sealed record User
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public bool IsAdmin { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>An API key's record. The key itself is shown once at creation; only its hash is stored.</summary>
public sealed record ApiKeyRecord
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    /// <summary>The first characters of the key, so people can tell their keys apart.</summary>
    public required string Prefix { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

namespace Promptd.Core.Users;

/// <summary>The authenticated user a request acts for.</summary>
public sealed record Caller(string UserId, bool IsAdmin)
{
    /// <summary>Users see their own resources; admins see all. Anything else is reported as not found.</summary>
    public bool CanSee(string ownerId) => IsAdmin || ownerId == UserId;

    /// <summary>The owner filter for lists: null (everyone's) for admins.</summary>
    public string? OwnerFilter => IsAdmin ? null : UserId;
}

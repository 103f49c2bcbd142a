using System.Collections.Concurrent;
using Promptd.Core.Storage;

namespace Promptd.Core.Users;

/// <summary>Users, API keys and authentication. Only admins manage users and keys.</summary>
public sealed class UserService(IPromptdStorage storage, TimeProvider time)
{
    public const int MaxNameChars = 200;
    public const int MaxKeyChars = 512;

    // Key hash → caller. Looking a key up in the database on every request is avoidable work;
    // deleting a key clears the cache, so a deleted key stops working at once on this node.
    private readonly ConcurrentDictionary<string, Caller> _cache = new(StringComparer.Ordinal);

    /// <summary>A newly made key, shown to its owner once.</summary>
    public sealed record IssuedKey(ApiKeyRecord Record, string Key);

    /// <summary>
    /// On an empty database creates the admin user with <paramref name="configuredKey"/> (or a
    /// random key). Returns the key when it was generated here, so the caller prints it once.
    /// </summary>
    public async Task<string?> BootstrapAsync(string? configuredKey, CancellationToken cancellationToken)
    {
        if (configuredKey is { } k && (k.Length < 16 || k.Length > MaxKeyChars))
            throw new InvalidOperationException("PROMPTD_ADMIN_KEY must be 16 to 512 characters");
        var key = configuredKey ?? ApiKeys.NewKey();
        var now = Timestamps.Truncate(time.GetUtcNow());
        var admin = new User { Id = Ids.New(), Name = "admin", IsAdmin = true, CreatedAt = now };
        var record = new ApiKeyRecord { Id = Ids.New(), UserId = admin.Id, Prefix = ApiKeys.Prefix(key), CreatedAt = now };
        var created = await storage.Users.CreateFirstAdminAsync(admin, record, ApiKeys.Hash(key), cancellationToken);
        return created && configuredKey is null ? key : null;
    }

    public async Task<Caller?> AuthenticateAsync(string key, CancellationToken cancellationToken)
    {
        if (key.Length is 0 or > MaxKeyChars) return null;
        var hash = ApiKeys.Hash(key);
        if (_cache.TryGetValue(hash, out var cached)) return cached;
        var user = await storage.Users.FindByKeyHashAsync(hash, cancellationToken);
        if (user is null) return null;
        var caller = new Caller(user.Id, user.IsAdmin);
        _cache[hash] = caller;
        return caller;
    }

    public async Task<(User User, IssuedKey Key)> CreateUserAsync(string name, bool isAdmin, Caller caller, CancellationToken cancellationToken)
    {
        RequireAdmin(caller);
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameChars) throw DomainException.Invalid($"name must be 1-{MaxNameChars} characters");
        var user = new User { Id = Ids.New(), Name = name, IsAdmin = isAdmin, CreatedAt = Timestamps.Truncate(time.GetUtcNow()) };
        await storage.Users.CreateUserAsync(user, cancellationToken);
        return (user, await IssueAsync(user.Id, cancellationToken));
    }

    public async Task<IssuedKey> CreateKeyAsync(string userId, Caller caller, CancellationToken cancellationToken)
    {
        RequireAdmin(caller);
        if (await storage.Users.GetUserAsync(userId, cancellationToken) is null) throw DomainException.NotFound($"user '{userId}' not found");
        return await IssueAsync(userId, cancellationToken);
    }

    public async Task<IReadOnlyList<User>> ListUsersAsync(Caller caller, CancellationToken cancellationToken)
    {
        RequireAdmin(caller);
        return await storage.Users.ListUsersAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(string userId, Caller caller, CancellationToken cancellationToken)
    {
        RequireAdmin(caller);
        if (await storage.Users.GetUserAsync(userId, cancellationToken) is null) throw DomainException.NotFound($"user '{userId}' not found");
        return await storage.Users.ListKeysAsync(userId, cancellationToken);
    }

    public async Task DeleteKeyAsync(string keyId, Caller caller, CancellationToken cancellationToken)
    {
        RequireAdmin(caller);
        if (!await storage.Users.DeleteKeyAsync(keyId, cancellationToken)) throw DomainException.NotFound($"key '{keyId}' not found");
        _cache.Clear();
    }

    public async Task<User> GetSelfAsync(Caller caller, CancellationToken cancellationToken) =>
        await storage.Users.GetUserAsync(caller.UserId, cancellationToken) ?? throw DomainException.NotFound("user not found");

    private async Task<IssuedKey> IssueAsync(string userId, CancellationToken cancellationToken)
    {
        var key = ApiKeys.NewKey();
        var record = new ApiKeyRecord { Id = Ids.New(), UserId = userId, Prefix = ApiKeys.Prefix(key), CreatedAt = Timestamps.Truncate(time.GetUtcNow()) };
        await storage.Users.CreateKeyAsync(record, ApiKeys.Hash(key), cancellationToken);
        return new IssuedKey(record, key);
    }

    private static void RequireAdmin(Caller caller)
    {
        if (!caller.IsAdmin) throw DomainException.Forbidden("only admins can manage users and keys");
    }
}

using Promptd.Core.Users;

namespace Promptd.Core.Storage;

public interface IUserStore
{
    /// <summary>
    /// On an empty database creates the first user (an admin) with one key, atomically; false when
    /// a user already exists (then nothing is written).
    /// </summary>
    Task<bool> CreateFirstAdminAsync(User admin, ApiKeyRecord key, string keyHash, CancellationToken cancellationToken);
    Task CreateUserAsync(User user, CancellationToken cancellationToken);
    Task<User?> GetUserAsync(string id, CancellationToken cancellationToken);
    Task<IReadOnlyList<User>> ListUsersAsync(CancellationToken cancellationToken);
    Task CreateKeyAsync(ApiKeyRecord key, string keyHash, CancellationToken cancellationToken);
    Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(string userId, CancellationToken cancellationToken);
    /// <summary>Deletes a key; false when there was none with this id.</summary>
    Task<bool> DeleteKeyAsync(string keyId, CancellationToken cancellationToken);
    Task<User?> FindByKeyHashAsync(string keyHash, CancellationToken cancellationToken);
}

using Promptd.Core;
using Promptd.Core.Storage;
using Promptd.Core.Users;

namespace Promptd.Storage.Sqlite;

internal sealed class SqliteUserStore(SqliteStorage storage, SqliteWriter writer) : IUserStore
{
    private const string UserColumns = "id, name, is_admin, created_at";

    public Task<bool> CreateFirstAdminAsync(User admin, ApiKeyRecord key, string keyHash, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx =>
        {
            if (ctx.Command("SELECT 1 FROM users LIMIT 1").ExecuteScalar() is not null) return false;
            InsertUser(ctx, admin);
            InsertKey(ctx, key, keyHash);
            return true;
        });

    public Task CreateUserAsync(User user, CancellationToken cancellationToken) => writer.ExecuteAsync(ctx => { InsertUser(ctx, user); return true; });

    public Task CreateKeyAsync(ApiKeyRecord key, string keyHash, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx => { InsertKey(ctx, key, keyHash); return true; });

    public Task<bool> DeleteKeyAsync(string keyId, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx => ctx.Execute("DELETE FROM api_keys WHERE id = $id", ("$id", keyId)) == 1);

    private static void InsertUser(WriteContext ctx, User u) =>
        ctx.Execute("INSERT INTO users (id, name, is_admin, created_at) VALUES ($id, $name, $admin, $at)",
            ("$id", u.Id), ("$name", u.Name), ("$admin", u.IsAdmin ? 1 : 0), ("$at", Timestamps.ToText(u.CreatedAt)));

    private static void InsertKey(WriteContext ctx, ApiKeyRecord k, string hash) =>
        ctx.Execute("INSERT INTO api_keys (id, user_id, key_hash, prefix, created_at) VALUES ($id, $user, $hash, $prefix, $at)",
            ("$id", k.Id), ("$user", k.UserId), ("$hash", hash), ("$prefix", k.Prefix), ("$at", Timestamps.ToText(k.CreatedAt)));

    public async Task<User?> GetUserAsync(string id, CancellationToken cancellationToken)
    {
        var list = await ReadUsersAsync("SELECT " + UserColumns + " FROM users WHERE id = $id", cancellationToken, ("$id", id));
        return list.Count == 0 ? null : list[0];
    }

    public Task<IReadOnlyList<User>> ListUsersAsync(CancellationToken cancellationToken) =>
        ReadUsersAsync("SELECT " + UserColumns + " FROM users ORDER BY created_at, id", cancellationToken);

    public async Task<User?> FindByKeyHashAsync(string keyHash, CancellationToken cancellationToken)
    {
        var list = await ReadUsersAsync(
            "SELECT u.id, u.name, u.is_admin, u.created_at FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $hash",
            cancellationToken, ("$hash", keyHash));
        return list.Count == 0 ? null : list[0];
    }

    public Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(string userId, CancellationToken cancellationToken) =>
        storage.ReadAsync("SELECT id, user_id, prefix, created_at FROM api_keys WHERE user_id = $user ORDER BY created_at, id",
            r => new ApiKeyRecord { Id = r.GetString(0), UserId = r.GetString(1), Prefix = r.GetString(2), CreatedAt = r.Time(3) },
            cancellationToken, ("$user", userId));

    private Task<IReadOnlyList<User>> ReadUsersAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        storage.ReadAsync(sql, r => new User { Id = r.GetString(0), Name = r.GetString(1), IsAdmin = r.GetInt64(2) != 0, CreatedAt = r.Time(3) },
            cancellationToken, parameters);
}

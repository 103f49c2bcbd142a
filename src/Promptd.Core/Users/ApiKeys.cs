using System.Security.Cryptography;
using System.Text;

namespace Promptd.Core.Users;

/// <summary>
/// Makes and hashes API keys. Keys are 256 random bits, so a fast hash (SHA-256) is enough to make
/// a stolen database useless; a slow password hash would only slow down every request.
/// </summary>
public static class ApiKeys
{
    private const string Marker = "pd_";

    public static string NewKey() => Marker + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), digest);
        return Convert.ToHexStringLower(digest);
    }

    public static string Prefix(string key) => key.Length <= 10 ? key[..Math.Min(3, key.Length)] : key[..10];

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

using Microsoft.Data.Sqlite;
using Promptd.Core;

namespace Promptd.Storage.Sqlite;

internal static class SqliteExtensions
{
    public static SqliteCommand Command(this SqliteConnection c, string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    public static string? TextOrNull(this SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    public static int? IntOrNull(this SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt32(i);
    public static DateTimeOffset Time(this SqliteDataReader r, int i) => Timestamps.Parse(r.GetString(i));
    public static DateTimeOffset? TimeOrNull(this SqliteDataReader r, int i) => r.IsDBNull(i) ? null : Timestamps.Parse(r.GetString(i));

    public static string? Text(DateTimeOffset? t) => t is { } v ? Timestamps.ToText(v) : null;
}

using Microsoft.Data.Sqlite;
using Promptd.Core.Runs;
using Promptd.Core.Engines;

namespace Promptd.Storage.Sqlite;

/// <summary>The runs table's column list and its mapping to <see cref="Run"/>.</summary>
internal static class RunRows
{
    public const string Columns =
        "seq, id, kind, user_id, thread_id, model_id, prompt, template, input_json, sync, status, run_count, max_retries, " +
        "error, answer, finish_reason, prompt_tokens, completion_tokens, created_at, updated_at, last_run, next_attempt_at, " +
        "lease_owner, lease_expires_at, request_hash";

    public const int ColumnCount = 25;

    /// <summary>Reads a row selected with <see cref="Columns"/> starting at column <paramref name="o"/>.</summary>
    public static Run Read(SqliteDataReader r, int o = 0) => new()
    {
        Seq = r.GetInt64(o + 0),
        Id = r.GetString(o + 1),
        Kind = r.GetString(o + 2),
        UserId = r.GetString(o + 3),
        ThreadId = r.TextOrNull(o + 4),
        ModelId = r.GetString(o + 5),
        Input = RunInputCodec.Decode(r.GetString(o + 6), r.TextOrNull(o + 7), r.GetString(o + 8)),
        Sync = r.GetInt64(o + 9) != 0,
        Status = RunStatuses.Parse(r.GetString(o + 10)),
        RunCount = r.GetInt32(o + 11),
        MaxRetries = r.GetInt32(o + 12),
        Error = r.TextOrNull(o + 13),
        Answer = r.TextOrNull(o + 14),
        FinishReason = r.TextOrNull(o + 15) is { } f ? RunEventTypes.ParseFinishReason(f) : (FinishReason?)null,
        PromptTokens = r.IntOrNull(o + 16),
        CompletionTokens = r.IntOrNull(o + 17),
        CreatedAt = r.Time(o + 18),
        UpdatedAt = r.Time(o + 19),
        LastRun = r.TimeOrNull(o + 20),
        NextAttemptAt = r.TimeOrNull(o + 21),
        LeaseOwner = r.TextOrNull(o + 22),
        LeaseExpiresAt = r.TimeOrNull(o + 23),
        RequestHash = r.TextOrNull(o + 24),
    };

    public static Run? ReadOne(SqliteCommand cmd)
    {
        using var r = cmd.ExecuteReader();
        return r.Read() ? Read(r) : null;
    }

    public static List<Run> ReadAll(SqliteCommand cmd)
    {
        var list = new List<Run>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(Read(r));
        return list;
    }
}

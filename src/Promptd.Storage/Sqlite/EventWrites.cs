using Promptd.Core;
using Promptd.Core.Runs;

namespace Promptd.Storage.Sqlite;

/// <summary>Appends an event inside a write operation and queues it for publishing after commit.</summary>
internal static class EventWrites
{
    private const string Insert =
        "INSERT INTO run_events (run_id, seq, thread_id, type, data, created_at) " +
        "VALUES ($run, COALESCE((SELECT seq FROM run_events WHERE run_id = $run ORDER BY id DESC LIMIT 1), 0) + 1, $thread, $type, $data, $at) " +
        "RETURNING id, seq";

    public static RunEvent Append(WriteContext ctx, RunEvent draft, DateTimeOffset now)
    {
        var at = Timestamps.Truncate(now);
        using var r = ctx.Command(Insert,
            ("$run", draft.RunId), ("$thread", draft.ThreadId), ("$type", draft.Type.ToWire()),
            ("$data", RunEventCodec.Encode(draft)), ("$at", Timestamps.ToText(at))).ExecuteReader();
        r.Read();
        var committed = draft with { Id = r.GetInt64(0), Seq = r.GetInt32(1), CreatedAt = at };
        ctx.Publish(committed);
        return committed;
    }
}

using System.Text.Json;
using Microsoft.Data.Sqlite;
using Promptd.Core;
using Promptd.Core.Knowledge.Retrieval;
using Promptd.Core.Query;
using Promptd.Core.Runs;
using Promptd.Core.Storage;
using Promptd.Core.TemplateRuns;

namespace Promptd.Storage.Sqlite;

/// <summary>
/// Template runs: a row in runs (as every run) joined with its row in template_runs, plus the data of
/// its Completed event (usage with timings, moderation results) read with it.
/// </summary>
internal sealed class SqliteTemplateRunStore(SqliteStorage storage, SqliteWriter writer) : ITemplateRunStore
{
    private const string From = "runs JOIN template_runs ON template_runs.run_id = runs.id";

    private const string Columns = RunRows.Columns +
        ", template_id, version_id, version_number, message_id, background, replacements_json, unused_json, citations_json" +
        ", (SELECT data FROM run_events WHERE run_id = runs.id AND type = 'completed' ORDER BY id DESC LIMIT 1)";

    private const int ColumnCount = RunRows.ColumnCount + 9;

    private static readonly JsonSerializerOptions Json = new();

    private static readonly QuerySource<TemplateRun> Source = new(From, new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["id"] = "id",
        ["promptId"] = "template_id",
        ["promptVersionId"] = "version_id",
        ["promptVersion"] = "version_number",
        ["userId"] = "user_id",
        ["modelId"] = "model_id",
        ["status"] = "status",
        ["finishReason"] = "finish_reason",
        ["error"] = "error",
        ["background"] = "background",
        ["promptTokens"] = "COALESCE(prompt_tokens, 0)",
        ["completionTokens"] = "COALESCE(completion_tokens, 0)",
        ["createdAt"] = "created_at",
        ["updatedAt"] = "updated_at",
        ["lastRun"] = "last_run",
    }, Columns, ColumnCount, Read);

    public Task<Run> SubmitAsync(Run run, TemplateRunDetails d, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx =>
        {
            var stored = SqliteRunStore.Insert(ctx, run);
            ctx.Execute(
                "INSERT INTO template_runs (run_id, template_id, version_id, version_number, message_id, background, replacements_json, unused_json, citations_json) " +
                "VALUES ($run, $template, $version, $number, $message, $background, $replacements, $unused, $citations)",
                ("$run", run.Id), ("$template", SqliteTemplateStore.Text(d.TemplateId)), ("$version", SqliteTemplateStore.Text(d.VersionId)),
                ("$number", d.VersionNumber), ("$message", SqliteTemplateStore.Text(d.MessageId)), ("$background", d.Background ? 1 : 0),
                ("$replacements", JsonSerializer.Serialize(d.Replacements, Json)), ("$unused", JsonSerializer.Serialize(d.UnusedReplacements, Json)),
                ("$citations", JsonSerializer.Serialize(d.Citations, Json)));
            return stored;
        });

    public async Task<TemplateRun?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        var rows = await storage.ReadAsync("SELECT " + Columns + " FROM " + From + " WHERE runs.id = $id", Read, cancellationToken, ("$id", runId));
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<QueryPage<TemplateRun>> QueryAsync(Query query, string? userId, CancellationToken cancellationToken)
    {
        await using var c = await storage.OpenReaderAsync(cancellationToken);
        return await SqliteQueryCompiler.RunAsync(c, query, Source, RunKinds.TemplateRun, userId, cancellationToken);
    }

    private static TemplateRun Read(SqliteDataReader r)
    {
        var run = RunRows.Read(r);
        const int o = RunRows.ColumnCount;
        var details = new TemplateRunDetails
        {
            TemplateId = Guid.Parse(r.GetString(o)),
            VersionId = Guid.Parse(r.GetString(o + 1)),
            VersionNumber = r.GetInt32(o + 2),
            MessageId = Guid.Parse(r.GetString(o + 3)),
            Background = r.GetInt64(o + 4) != 0,
            Replacements = JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(o + 5), Json) ?? [],
            UnusedReplacements = JsonSerializer.Deserialize<List<string>>(r.GetString(o + 6), Json) ?? [],
            Citations = JsonSerializer.Deserialize<List<Citation>>(r.GetString(o + 7), Json) ?? [],
        };
        var completed = r.IsDBNull(o + 8)
            ? null
            : RunEventCodec.Decode(0, run.Id, 0, run.ThreadId, RunEventType.Completed.ToWire(), r.GetString(o + 8), Timestamps.ToText(run.UpdatedAt));
        return new TemplateRun(run, details, completed);
    }
}

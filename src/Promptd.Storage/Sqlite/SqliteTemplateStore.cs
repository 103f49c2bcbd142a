using System.Text.Json;
using Microsoft.Data.Sqlite;
using Promptd.Core;
using Promptd.Core.Query;
using Promptd.Core.Storage;
using Promptd.Core.Templates;

namespace Promptd.Storage.Sqlite;

/// <summary>Templates, versions and labels in SQLite. template_versions rows are inserted and deleted, never updated.</summary>
internal sealed class SqliteTemplateStore(SqliteStorage storage, SqliteWriter writer) : ITemplateStore
{
    private const string TemplateColumns =
        "id, user_id, name, description, default_version_id, version_count, created_at, updated_at, " +
        "(SELECT json_group_object(label, version_id) FROM template_labels WHERE template_id = templates.id)";

    private const int TemplateColumnCount = 9;

    private const string VersionColumns = "id, template_id, number, model_id, content_json, created_at";

    private static readonly QuerySource<TemplateRecord> Source = new("templates", new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["id"] = "id",
        ["userId"] = "user_id",
        ["name"] = "name",
        ["description"] = "description",
        ["defaultVersionId"] = "default_version_id",
        ["versionCount"] = "version_count",
        ["createdAt"] = "created_at",
        ["updatedAt"] = "updated_at",
    }, TemplateColumns, TemplateColumnCount, ReadTemplate);

    public Task CreateAsync(TemplateRecord template, TemplateVersion first, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx =>
        {
            ctx.Execute(
                "INSERT INTO templates (id, user_id, name, description, default_version_id, version_count, created_at, updated_at) " +
                "VALUES ($id, $user, $name, $description, $default, 1, $now, $now)",
                ("$id", Text(template.Id)), ("$user", template.UserId), ("$name", template.Name), ("$description", template.Description),
                ("$default", Text(first.Id)), ("$now", Timestamps.ToText(template.CreatedAt)));
            InsertVersion(ctx, first);
            foreach (var (label, versionId) in template.Labels) UpsertLabel(ctx, template.Id, label, versionId, template.CreatedAt);
            return true;
        });

    public async Task<TemplateRecord?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        var rows = await storage.ReadAsync("SELECT " + TemplateColumns + " FROM templates WHERE id = $id", ReadTemplate, cancellationToken, ("$id", Text(id)));
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<QueryPage<TemplateRecord>> QueryAsync(Query query, string? userId, CancellationToken cancellationToken)
    {
        await using var c = await storage.OpenReaderAsync(cancellationToken);
        return await SqliteQueryCompiler.RunAsync(c, query, Source, kind: null, userId, cancellationToken);
    }

    public async Task<TemplateVersion?> GetVersionAsync(Guid templateId, Guid versionId, CancellationToken cancellationToken)
    {
        var rows = await storage.ReadAsync("SELECT " + VersionColumns + " FROM template_versions WHERE id = $id AND template_id = $template",
            ReadVersion, cancellationToken, ("$id", Text(versionId)), ("$template", Text(templateId)));
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<TemplateVersion?> GetVersionByNumberAsync(Guid templateId, int number, CancellationToken cancellationToken)
    {
        var rows = await storage.ReadAsync("SELECT " + VersionColumns + " FROM template_versions WHERE template_id = $template AND number = $number",
            ReadVersion, cancellationToken, ("$template", Text(templateId)), ("$number", number));
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<IReadOnlyList<TemplateVersion>> ListVersionsAsync(Guid templateId, CancellationToken cancellationToken) =>
        storage.ReadAsync("SELECT " + VersionColumns + " FROM template_versions WHERE template_id = $template ORDER BY number DESC",
            ReadVersion, cancellationToken, ("$template", Text(templateId)));

    public Task<TemplateVersion?> AddVersionAsync(
        Guid templateId, Guid versionId, TemplateVersionContent content, IReadOnlyList<string> labels, bool makeDefault,
        DateTimeOffset now, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx =>
        {
            var number = ctx.Command(
                "UPDATE templates SET version_count = version_count + 1, updated_at = $now, " +
                "default_version_id = CASE WHEN $default THEN $version ELSE default_version_id END WHERE id = $id RETURNING version_count",
                ("$id", Text(templateId)), ("$now", Timestamps.ToText(now)), ("$default", makeDefault ? 1 : 0), ("$version", Text(versionId))).ExecuteScalar();
            if (number is null) return null;
            var version = new TemplateVersion { Id = versionId, TemplateId = templateId, Number = (int)(long)number, Content = content, CreatedAt = now };
            InsertVersion(ctx, version);
            foreach (var label in labels) UpsertLabel(ctx, templateId, label, versionId, now);
            return version;
        });

    public Task<TemplateRecord?> UpdateAsync(Guid id, string? name, string? description, Guid? defaultVersionId, DateTimeOffset now, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx =>
        {
            if (defaultVersionId is { } v && !VersionBelongs(ctx, id, v)) return null;
            var updated = ctx.Execute(
                "UPDATE templates SET name = COALESCE($name, name), description = COALESCE($description, description), " +
                "default_version_id = COALESCE($default, default_version_id), updated_at = $now WHERE id = $id",
                ("$id", Text(id)), ("$name", name), ("$description", description),
                ("$default", defaultVersionId is { } d ? Text(d) : null), ("$now", Timestamps.ToText(now)));
            if (updated == 0) return null;
            using var r = ctx.Command("SELECT " + TemplateColumns + " FROM templates WHERE id = $id", ("$id", Text(id))).ExecuteReader();
            return r.Read() ? ReadTemplate(r) : null;
        });

    public Task<bool> SetLabelAsync(Guid templateId, string label, Guid versionId, DateTimeOffset now, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx =>
        {
            if (!VersionBelongs(ctx, templateId, versionId)) return false;
            UpsertLabel(ctx, templateId, label, versionId, now);
            Touch(ctx, templateId, now);
            return true;
        });

    public Task<bool> RemoveLabelAsync(Guid templateId, string label, DateTimeOffset now, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx =>
        {
            var removed = ctx.Execute("DELETE FROM template_labels WHERE template_id = $template AND label = $label",
                ("$template", Text(templateId)), ("$label", label)) > 0;
            if (removed) Touch(ctx, templateId, now);
            return removed;
        });

    public Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx =>
        {
            var key = ("$id", (object?)Text(id));
            if (ctx.Execute("DELETE FROM templates WHERE id = $id", key) == 0) return false;
            ctx.Execute("DELETE FROM template_versions WHERE template_id = $id", key);
            ctx.Execute("DELETE FROM template_labels WHERE template_id = $id", key);
            return true;
        });

    private static bool VersionBelongs(WriteContext ctx, Guid templateId, Guid versionId) =>
        ctx.Command("SELECT 1 FROM template_versions WHERE id = $version AND template_id = $template",
            ("$version", Text(versionId)), ("$template", Text(templateId))).ExecuteScalar() is not null;

    private static void Touch(WriteContext ctx, Guid templateId, DateTimeOffset now) =>
        ctx.Execute("UPDATE templates SET updated_at = $now WHERE id = $id", ("$id", Text(templateId)), ("$now", Timestamps.ToText(now)));

    private static void InsertVersion(WriteContext ctx, TemplateVersion v) =>
        ctx.Execute(
            "INSERT INTO template_versions (id, template_id, number, model_id, content_json, created_at) VALUES ($id, $template, $number, $model, $content, $now)",
            ("$id", Text(v.Id)), ("$template", Text(v.TemplateId)), ("$number", v.Number), ("$model", v.Content.ModelId),
            ("$content", TemplateContentCodec.Encode(v.Content)), ("$now", Timestamps.ToText(v.CreatedAt)));

    private static void UpsertLabel(WriteContext ctx, Guid templateId, string label, Guid versionId, DateTimeOffset now) =>
        ctx.Execute(
            "INSERT INTO template_labels (template_id, label, version_id, updated_at) VALUES ($template, $label, $version, $now) " +
            "ON CONFLICT (template_id, label) DO UPDATE SET version_id = excluded.version_id, updated_at = excluded.updated_at",
            ("$template", Text(templateId)), ("$label", label), ("$version", Text(versionId)), ("$now", Timestamps.ToText(now)));

    private static TemplateRecord ReadTemplate(SqliteDataReader r)
    {
        var labels = new Dictionary<string, Guid>(StringComparer.Ordinal);
        if (!r.IsDBNull(8))
        {
            using var doc = JsonDocument.Parse(r.GetString(8));
            foreach (var p in doc.RootElement.EnumerateObject()) labels[p.Name] = Guid.Parse(p.Value.GetString()!);
        }
        return new TemplateRecord
        {
            Id = Guid.Parse(r.GetString(0)),
            UserId = r.GetString(1),
            Name = r.GetString(2),
            Description = r.TextOrNull(3),
            DefaultVersionId = Guid.Parse(r.GetString(4)),
            VersionCount = r.GetInt32(5),
            CreatedAt = r.Time(6),
            UpdatedAt = r.Time(7),
            Labels = labels,
        };
    }

    private static TemplateVersion ReadVersion(SqliteDataReader r) => new()
    {
        Id = Guid.Parse(r.GetString(0)),
        TemplateId = Guid.Parse(r.GetString(1)),
        Number = r.GetInt32(2),
        Content = TemplateContentCodec.Decode(r.GetString(3), r.GetString(4)),
        CreatedAt = r.Time(5),
    };

    /// <summary>UUIDs are stored as their lower-case text, as they appear on the wire.</summary>
    internal static string Text(Guid id) => id.ToString("D");
}

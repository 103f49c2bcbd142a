using Promptd.Core.Query;

namespace Promptd.Core.TemplateRuns;

/// <summary>The queryable fields of template runs (<c>POST /prompt-runs/search</c>); storage maps each to a column.</summary>
public static class TemplateRunFields
{
    public static readonly QueryFieldSet Set = new(
        "createdAt",
        new QueryField("id", FieldType.Text),
        new QueryField("promptId", FieldType.Text),
        new QueryField("promptVersionId", FieldType.Text),
        new QueryField("promptVersion", FieldType.Integer),
        new QueryField("userId", FieldType.Text),
        new QueryField("modelId", FieldType.Text),
        new QueryField("status", FieldType.Text),
        new QueryField("finishReason", FieldType.Text, Nullable: true),
        new QueryField("error", FieldType.Text, Nullable: true),
        new QueryField("background", FieldType.Boolean),
        new QueryField("promptTokens", FieldType.Integer),
        new QueryField("completionTokens", FieldType.Integer),
        new QueryField("createdAt", FieldType.Time),
        new QueryField("updatedAt", FieldType.Time),
        new QueryField("lastRun", FieldType.Time, Nullable: true));
}

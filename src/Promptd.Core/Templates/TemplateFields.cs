using Promptd.Core.Query;

namespace Promptd.Core.Templates;

/// <summary>The queryable fields of templates (<c>POST /prompts/search</c>); storage maps each to a column.</summary>
public static class TemplateFields
{
    public static readonly QueryFieldSet Set = new(
        "createdAt",
        new QueryField("id", FieldType.Text),
        new QueryField("userId", FieldType.Text),
        new QueryField("name", FieldType.Text),
        new QueryField("description", FieldType.Text, Nullable: true),
        new QueryField("defaultVersionId", FieldType.Text),
        new QueryField("versionCount", FieldType.Integer),
        new QueryField("createdAt", FieldType.Time),
        new QueryField("updatedAt", FieldType.Time));
}

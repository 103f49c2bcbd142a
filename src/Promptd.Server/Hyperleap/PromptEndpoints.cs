using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core;
using Promptd.Core.Query;
using Promptd.Core.Templates;
using Promptd.Server.Http;
using Promptd.Server.PromptSvc;
using static Promptd.Server.Hyperleap.HyperleapJson;

namespace Promptd.Server.Hyperleap;

/// <summary>Templates ("prompts"), their immutable versions, labels and diffs.</summary>
internal static class PromptEndpoints
{
    private const string Prompt = "prompt";

    public static void Map(WebApplication app, PromptdServices s)
    {
        app.MapPost("/prompts", (HttpContext c) => CreateAsync(c, s));
        app.MapGet("/prompts", (HttpContext c) => WriteListAsync(c, s, QueryParser.Parse(null, TemplateFields.Set)));
        app.MapPost("/prompts/search", async (HttpContext c) => await WriteListAsync(c, s, await QueryBody.ReadAsync(c, TemplateFields.Set)));
        app.MapGet("/prompts/{promptId}", async (HttpContext c, string promptId) =>
        {
            var t = await s.Templates.GetVersionAsync(PathGuid(promptId, Prompt), VersionReference.Default, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => TemplateWire.WriteTemplateMembers(w, t.Template, t.Version));
        });
        app.MapPatch("/prompts/{promptId}", (HttpContext c, string promptId) => UpdateAsync(c, s, PathGuid(promptId, Prompt)));
        app.MapDelete("/prompts/{promptId}", async (HttpContext c, string promptId) =>
        {
            await s.Templates.DeleteAsync(PathGuid(promptId, Prompt), c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, _ => { });
        });

        app.MapPost("/prompts/{promptId}/versions", (HttpContext c, string promptId) => AddVersionAsync(c, s, PathGuid(promptId, Prompt)));
        app.MapGet("/prompts/{promptId}/versions", async (HttpContext c, string promptId) =>
        {
            var (template, versions) = await s.Templates.ListVersionsAsync(PathGuid(promptId, Prompt), c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w =>
            {
                w.WriteStartArray("versions");
                foreach (var v in versions) TemplateWire.WriteVersion(w, template, v);
                w.WriteEndArray();
            });
        });
        app.MapGet("/prompts/{promptId}/versions/{version}", async (HttpContext c, string promptId, string version) =>
        {
            var t = await s.Templates.GetVersionAsync(PathGuid(promptId, Prompt), version, c.Caller(), c.RequestAborted);
            await WriteVersionAsync(c, 200, t);
        });
        app.MapGet("/prompts/{promptId}/diff", async (HttpContext c, string promptId) =>
        {
            var from = c.Request.Query["from"].ToString();
            var to = c.Request.Query["to"].ToString();
            if (from.Length == 0 || to.Length == 0) throw DomainException.Invalid("diff needs ?from=VERSION&to=VERSION (ids, numbers or labels)");
            var diff = await s.Templates.DiffAsync(PathGuid(promptId, Prompt), from, to, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => TemplateWire.WriteDiff(w, diff));
        });
        app.MapPut("/prompts/{promptId}/labels/{label}", async (HttpContext c, string promptId, string label) =>
        {
            string version;
            using (var body = await JsonBody.ReadObjectAsync(c))
            {
                OnlyMembers(body.RootElement, "", "versionId");
                version = body.RootElement.RequiredString("versionId");
            }
            var template = await s.Templates.SetLabelAsync(PathGuid(promptId, Prompt), label, version, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => TemplateWire.WriteTemplateMembers(w, template, null));
        });
        app.MapDelete("/prompts/{promptId}/labels/{label}", async (HttpContext c, string promptId, string label) =>
        {
            var template = await s.Templates.RemoveLabelAsync(PathGuid(promptId, Prompt), label, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => TemplateWire.WriteTemplateMembers(w, template, null));
        });
    }

    private static async Task CreateAsync(HttpContext c, PromptdServices s)
    {
        string name;
        string? description;
        TemplateVersionContent content;
        List<string> labels;
        using (var body = await JsonBody.ReadObjectAsync(c))
        {
            var root = body.RootElement;
            OnlyMembers(root, "", "name", "description", "modelId", "messages", "parameters", "knowledgeBaseIds", "moderation", "labels");
            name = root.RequiredString("name");
            description = root.OptionalString("description");
            content = TemplateWire.ReadContent(root);
            labels = StringList(OptionalArray(root, "labels"), "labels");
        }
        var created = await s.Templates.CreateAsync(name, description, content, labels, c.Caller(), c.RequestAborted);
        await JsonResponse.WriteAsync(c, 201, w => TemplateWire.WriteTemplateMembers(w, created.Template, created.Version));
    }

    private static async Task UpdateAsync(HttpContext c, PromptdServices s, Guid id)
    {
        string? name, description, defaultVersion;
        using (var body = await JsonBody.ReadObjectAsync(c))
        {
            var root = body.RootElement;
            OnlyMembers(root, "", "name", "description", "defaultVersionId");
            name = root.OptionalString("name");
            description = root.OptionalString("description");
            defaultVersion = root.OptionalString("defaultVersionId");
        }
        var template = await s.Templates.UpdateAsync(id, name, description, defaultVersion, c.Caller(), c.RequestAborted);
        await JsonResponse.OkAsync(c, w => TemplateWire.WriteTemplateMembers(w, template, null));
    }

    private static async Task AddVersionAsync(HttpContext c, PromptdServices s, Guid id)
    {
        TemplateVersionContent content;
        List<string> labels;
        bool makeDefault;
        using (var body = await JsonBody.ReadObjectAsync(c))
        {
            var root = body.RootElement;
            OnlyMembers(root, "", "modelId", "messages", "parameters", "knowledgeBaseIds", "moderation", "labels", "makeDefault");
            content = TemplateWire.ReadContent(root);
            labels = StringList(OptionalArray(root, "labels"), "labels");
            makeDefault = root.OptionalBool("makeDefault") ?? false;
        }
        var added = await s.Templates.AddVersionAsync(id, content, labels, makeDefault, c.Caller(), c.RequestAborted);
        await WriteVersionAsync(c, 201, added);
    }

    private static Task WriteVersionAsync(HttpContext c, int status, TemplateWithVersion t) =>
        JsonResponse.WriteAsync(c, status, w => TemplateWire.WriteVersionMembers(w, t.Template, t.Version));

    private static async Task WriteListAsync(HttpContext c, PromptdServices s, Query query)
    {
        var page = await s.Templates.ListAsync(query, c.Caller(), c.RequestAborted);
        await JsonResponse.PageAsync(c, "prompts", page, TemplateWire.WriteTemplate);
    }
}

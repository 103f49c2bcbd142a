using Promptd.Core.Engines.Resolution;
using Promptd.Core.Storage;
using Promptd.Core.Users;

namespace Promptd.Core.Templates;

/// <summary>A template with one of its versions (the default one, or the one asked for).</summary>
public sealed record TemplateWithVersion(TemplateRecord Template, TemplateVersion Version);

/// <summary>The changes between two versions of a template.</summary>
public sealed record TemplateDiff(TemplateVersion From, TemplateVersion To, IReadOnlyList<VersionChange> Changes);

/// <summary>
/// The template use cases: create (with the first version), read, list, rename, delete; add, list,
/// read and compare versions; set the default version; point labels at versions (a rollback is a
/// label moved back). Users see only their own templates (another user's is a 404); admins see all.
/// Versions are immutable: nothing here changes one.
/// </summary>
public sealed class TemplateService(IPromptdStorage storage, IEngineResolver engines, TimeProvider time)
{
    public async Task<TemplateWithVersion> CreateAsync(
        string name, string? description, TemplateVersionContent content, IReadOnlyList<string> labels, Caller caller, CancellationToken cancellationToken)
    {
        name = TemplateValidation.ValidateName(name);
        TemplateValidation.ValidateDescription(description);
        await ValidateAsync(content, labels, caller, cancellationToken);
        var now = Timestamps.Truncate(time.GetUtcNow());
        var version = new TemplateVersion { Id = Guid.CreateVersion7(), TemplateId = Guid.CreateVersion7(), Number = 1, Content = content, CreatedAt = now };
        var labelMap = new Dictionary<string, Guid>(StringComparer.Ordinal);
        foreach (var label in labels) labelMap[label] = version.Id;
        var template = new TemplateRecord
        {
            Id = version.TemplateId, UserId = caller.UserId, Name = name, Description = description, DefaultVersionId = version.Id,
            VersionCount = 1, Labels = labelMap, CreatedAt = now, UpdatedAt = now,
        };
        await storage.Templates.CreateAsync(template, version, cancellationToken);
        return new TemplateWithVersion(template, version);
    }

    public async Task<TemplateRecord> GetAsync(Guid id, Caller caller, CancellationToken cancellationToken)
    {
        var template = await storage.Templates.GetAsync(id, cancellationToken);
        if (template is null || !caller.CanSee(template.UserId)) throw NotFound(id);
        return template;
    }

    public Task<Query.QueryPage<TemplateRecord>> ListAsync(Query.Query query, Caller caller, CancellationToken cancellationToken) =>
        storage.Templates.QueryAsync(query, caller.OwnerFilter, cancellationToken);

    /// <summary>Renames, redescribes, or sets the default version (null members stay as they are).</summary>
    public async Task<TemplateRecord> UpdateAsync(
        Guid id, string? name, string? description, string? defaultVersion, Caller caller, CancellationToken cancellationToken)
    {
        var template = await GetAsync(id, caller, cancellationToken);
        if (name is not null) name = TemplateValidation.ValidateName(name);
        TemplateValidation.ValidateDescription(description);
        Guid? defaultId = defaultVersion is null ? null : (await ResolveAsync(template, defaultVersion, cancellationToken)).Id;
        return await storage.Templates.UpdateAsync(id, name, description, defaultId, time.GetUtcNow(), cancellationToken) ?? throw NotFound(id);
    }

    public async Task DeleteAsync(Guid id, Caller caller, CancellationToken cancellationToken)
    {
        await GetAsync(id, caller, cancellationToken);
        if (!await storage.Templates.DeleteAsync(id, cancellationToken)) throw NotFound(id);
    }

    /// <summary>Adds the next version; it becomes the default only when <paramref name="makeDefault"/>.</summary>
    public async Task<TemplateWithVersion> AddVersionAsync(
        Guid id, TemplateVersionContent content, IReadOnlyList<string> labels, bool makeDefault, Caller caller, CancellationToken cancellationToken)
    {
        await GetAsync(id, caller, cancellationToken);
        await ValidateAsync(content, labels, caller, cancellationToken);
        var version = await storage.Templates.AddVersionAsync(id, Guid.CreateVersion7(), content, labels, makeDefault,
            Timestamps.Truncate(time.GetUtcNow()), cancellationToken) ?? throw NotFound(id);
        return new TemplateWithVersion(await GetAsync(id, caller, cancellationToken), version);
    }

    public async Task<(TemplateRecord Template, IReadOnlyList<TemplateVersion> Versions)> ListVersionsAsync(Guid id, Caller caller, CancellationToken cancellationToken)
    {
        var template = await GetAsync(id, caller, cancellationToken);
        return (template, await storage.Templates.ListVersionsAsync(id, cancellationToken));
    }

    /// <summary>A version named by id, number, label, <c>default</c> or <c>latest</c> (see <see cref="VersionReference"/>).</summary>
    public async Task<TemplateWithVersion> GetVersionAsync(Guid id, string version, Caller caller, CancellationToken cancellationToken)
    {
        var template = await GetAsync(id, caller, cancellationToken);
        return new TemplateWithVersion(template, await ResolveAsync(template, version, cancellationToken));
    }

    public async Task<TemplateDiff> DiffAsync(Guid id, string from, string to, Caller caller, CancellationToken cancellationToken)
    {
        var template = await GetAsync(id, caller, cancellationToken);
        var before = await ResolveAsync(template, from, cancellationToken);
        var after = await ResolveAsync(template, to, cancellationToken);
        return new TemplateDiff(before, after, VersionDiff.Compare(before.Content, after.Content));
    }

    /// <summary>Points <paramref name="label"/> at a version (creating the label or moving it).</summary>
    public async Task<TemplateRecord> SetLabelAsync(Guid id, string label, string version, Caller caller, CancellationToken cancellationToken)
    {
        LabelNames.Validate(label);
        var template = await GetAsync(id, caller, cancellationToken);
        var target = await ResolveAsync(template, version, cancellationToken);
        if (!await storage.Templates.SetLabelAsync(id, label, target.Id, time.GetUtcNow(), cancellationToken)) throw NotFound(id);
        return await GetAsync(id, caller, cancellationToken);
    }

    public async Task<TemplateRecord> RemoveLabelAsync(Guid id, string label, Caller caller, CancellationToken cancellationToken)
    {
        await GetAsync(id, caller, cancellationToken);
        if (!await storage.Templates.RemoveLabelAsync(id, label, time.GetUtcNow(), cancellationToken))
            throw DomainException.NotFound($"label '{TemplateValidation.Shorten(label)}' not found");
        return await GetAsync(id, caller, cancellationToken);
    }

    /// <summary>Resolves a version reference against a template the caller may see; a 404 when it names none.</summary>
    public async Task<TemplateVersion> ResolveAsync(TemplateRecord template, string reference, CancellationToken cancellationToken)
    {
        var r = VersionReference.Parse(reference);
        var version = r switch
        {
            { Id: { } versionId } => await storage.Templates.GetVersionAsync(template.Id, versionId, cancellationToken),
            { Number: { } number } => await storage.Templates.GetVersionByNumberAsync(template.Id, number, cancellationToken),
            { Label: VersionReference.Default } => await storage.Templates.GetVersionAsync(template.Id, template.DefaultVersionId, cancellationToken),
            { Label: VersionReference.Latest } => await storage.Templates.GetVersionByNumberAsync(template.Id, template.VersionCount, cancellationToken),
            { Label: { } label } when template.Labels.TryGetValue(label, out var labeled) =>
                await storage.Templates.GetVersionAsync(template.Id, labeled, cancellationToken),
            _ => null,
        };
        return version ?? throw DomainException.NotFound($"version '{TemplateValidation.Shorten(reference)}' of prompt '{template.Id}' not found");
    }

    private async Task ValidateAsync(TemplateVersionContent content, IReadOnlyList<string> labels, Caller caller, CancellationToken cancellationToken)
    {
        TemplateValidation.Validate(content, engines);
        foreach (var label in labels) LabelNames.Validate(label);
        foreach (var kbId in content.KnowledgeBaseIds)
        {
            var kb = await storage.KnowledgeBases.GetAsync(kbId, cancellationToken);
            if (kb is null || !caller.CanSee(kb.UserId)) throw DomainException.Invalid($"unknown knowledge base '{kbId}'");
        }
    }

    private static DomainException NotFound(Guid id) => DomainException.NotFound($"prompt '{id}' not found");
}

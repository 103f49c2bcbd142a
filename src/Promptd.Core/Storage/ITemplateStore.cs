using Promptd.Core.Query;
using Promptd.Core.Templates;

namespace Promptd.Core.Storage;

/// <summary>
/// Templates, their versions and labels. Versions are written once and never changed: there is no
/// method that alters one. Every method that changes a template commits before it returns.
/// </summary>
public interface ITemplateStore
{
    /// <summary>Inserts a template with its first version (and the labels of <paramref name="template"/>), in one transaction.</summary>
    Task CreateAsync(TemplateRecord template, TemplateVersion first, CancellationToken cancellationToken);

    Task<TemplateRecord?> GetAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>Lists templates; <paramref name="userId"/> null means every user's (admins).</summary>
    Task<QueryPage<TemplateRecord>> QueryAsync(Query.Query query, string? userId, CancellationToken cancellationToken);

    /// <summary>A version of this template (null when the id names none, or a version of another template).</summary>
    Task<TemplateVersion?> GetVersionAsync(Guid templateId, Guid versionId, CancellationToken cancellationToken);

    Task<TemplateVersion?> GetVersionByNumberAsync(Guid templateId, int number, CancellationToken cancellationToken);

    /// <summary>Every version of the template, newest first.</summary>
    Task<IReadOnlyList<TemplateVersion>> ListVersionsAsync(Guid templateId, CancellationToken cancellationToken);

    /// <summary>
    /// Adds the next version (its number is the template's version count plus one, assigned in the
    /// transaction), points <paramref name="labels"/> at it and, when <paramref name="makeDefault"/>,
    /// makes it the default. Null when the template no longer exists.
    /// </summary>
    Task<TemplateVersion?> AddVersionAsync(
        Guid templateId, Guid versionId, TemplateVersionContent content, IReadOnlyList<string> labels, bool makeDefault,
        DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Changes name, description or default version (null: unchanged). Null when the template is gone or the version is not one of its own.</summary>
    Task<TemplateRecord?> UpdateAsync(Guid id, string? name, string? description, Guid? defaultVersionId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Points a label at a version of the template (creating or moving it). False when the version is not one of its own.</summary>
    Task<bool> SetLabelAsync(Guid templateId, string label, Guid versionId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Removes a label; false when the template had no such label.</summary>
    Task<bool> RemoveLabelAsync(Guid templateId, string label, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes the template with its versions and labels (its runs stay); false when it did not exist.</summary>
    Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken);
}

using Promptd.Core.Moderation;

namespace Promptd.Core.Templates;

public enum VersionChangeKind
{
    Added,
    Removed,
    Changed,
}

/// <summary>
/// One difference between two versions. <see cref="Path"/> names the field as the API spells it
/// (<c>modelId</c>, <c>messages[1].content</c>, <c>parameters.temperature</c>, <c>parameters.stop</c>,
/// <c>knowledgeBaseIds</c>, <c>moderation.threshold</c>, <c>moderation.categories.hate</c>,
/// <c>variables</c>); <see cref="Before"/>/<see cref="After"/> are plain JSON-friendly values (string,
/// number, or for whole messages a <see cref="TemplateMessage"/>), null where absent.
/// </summary>
public sealed record VersionChange(string Path, VersionChangeKind Kind, object? Before, object? After);

/// <summary>Compares two versions field by field, for the "diff two versions" endpoint.</summary>
public static class VersionDiff
{
    /// <summary>
    /// The changes that turn <paramref name="before"/> into <paramref name="after"/>, in a stable order:
    /// model, messages (by position), variables, parameters, knowledge bases, moderation. Lists that are
    /// sets (stop sequences, knowledge bases, variables) report items added and removed. Both versions
    /// must hold valid templates (they were validated when created).
    /// </summary>
    public static IReadOnlyList<VersionChange> Compare(TemplateVersionContent before, TemplateVersionContent after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var changes = new List<VersionChange>();
        Scalar(changes, "modelId", before.ModelId, after.ModelId);
        Messages(changes, before.Messages, after.Messages);
        Set(changes, "variables", PromptTemplate.Parse(before.Messages).Variables, PromptTemplate.Parse(after.Messages).Variables);

        var (p, q) = (before.Parameters.Sampling, after.Parameters.Sampling);
        Scalar(changes, "parameters.maxTokens", before.Parameters.MaxTokens, after.Parameters.MaxTokens);
        Scalar(changes, "parameters.temperature", p.Temperature, q.Temperature);
        Scalar(changes, "parameters.topP", p.TopP, q.TopP);
        Scalar(changes, "parameters.topK", p.TopK, q.TopK);
        Scalar(changes, "parameters.minP", p.MinP, q.MinP);
        Scalar(changes, "parameters.repeatPenalty", p.RepeatPenalty, q.RepeatPenalty);
        Scalar(changes, "parameters.frequencyPenalty", p.FrequencyPenalty, q.FrequencyPenalty);
        Scalar(changes, "parameters.presencePenalty", p.PresencePenalty, q.PresencePenalty);
        Scalar(changes, "parameters.seed", p.Seed, q.Seed);
        Set(changes, "parameters.stop", before.Parameters.Stop, after.Parameters.Stop);

        Set(changes, "knowledgeBaseIds", before.KnowledgeBaseIds.Select(id => id.ToString()).ToList(), after.KnowledgeBaseIds.Select(id => id.ToString()).ToList());

        Scalar(changes, "moderation.threshold", ModerationPolicy.ThresholdToWire(before.Moderation.Threshold), ModerationPolicy.ThresholdToWire(after.Moderation.Threshold));
        foreach (var category in ModerationNames.Categories)
        {
            // Per category only where a version overrides it; otherwise the threshold line says it all.
            if (!before.Moderation.CategoryThresholds.ContainsKey(category) && !after.Moderation.CategoryThresholds.ContainsKey(category)) continue;
            Scalar(changes, "moderation.categories." + category.ToWire(),
                ModerationPolicy.ThresholdToWire(before.Moderation.ThresholdFor(category)),
                ModerationPolicy.ThresholdToWire(after.Moderation.ThresholdFor(category)));
        }
        return changes;
    }

    private static void Messages(List<VersionChange> changes, IReadOnlyList<TemplateMessage> before, IReadOnlyList<TemplateMessage> after)
    {
        for (var i = 0; i < Math.Max(before.Count, after.Count); i++)
        {
            var path = $"messages[{i}]";
            if (i >= after.Count) changes.Add(new VersionChange(path, VersionChangeKind.Removed, before[i], null));
            else if (i >= before.Count) changes.Add(new VersionChange(path, VersionChangeKind.Added, null, after[i]));
            else
            {
                Scalar(changes, path + ".role", before[i].Role, after[i].Role);
                Scalar(changes, path + ".content", before[i].Content, after[i].Content);
            }
        }
    }

    private static void Scalar<T>(List<VersionChange> changes, string path, T before, T after)
    {
        if (EqualityComparer<T>.Default.Equals(before, after)) return;
        var kind = before is null ? VersionChangeKind.Added : after is null ? VersionChangeKind.Removed : VersionChangeKind.Changed;
        changes.Add(new VersionChange(path, kind, before, after));
    }

    private static void Set(List<VersionChange> changes, string path, IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        foreach (var item in before)
        {
            if (!after.Contains(item)) changes.Add(new VersionChange(path, VersionChangeKind.Removed, item, null));
        }
        foreach (var item in after)
        {
            if (!before.Contains(item)) changes.Add(new VersionChange(path, VersionChangeKind.Added, null, item));
        }
    }
}

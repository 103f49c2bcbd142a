namespace Promptd.Core.Templates;

/// <summary>Base of the template errors; every message is safe to show to the client (a 400).</summary>
public abstract class TemplateException(string message) : Exception(message);

/// <summary>The template text itself is malformed: an unclosed or empty placeholder, or a bad variable name.</summary>
public sealed class TemplateSyntaxException(string reason, int? line = null, int? column = null)
    : TemplateException(line is null ? reason : $"{reason} (line {line}, column {column})")
{
    /// <summary>What is wrong, without the position.</summary>
    public string Reason { get; } = reason;

    /// <summary>1-based line of the offending <c>{{</c>; null when the error is not at a position.</summary>
    public int? Line { get; } = line;

    /// <summary>1-based column (UTF-16 units) of the offending <c>{{</c>.</summary>
    public int? Column { get; } = column;
}

/// <summary>
/// Rendering needed variables the caller did not supply. <see cref="Names"/> lists every missing one,
/// in the order they first appear in the template, so the client can fix them all at once.
/// </summary>
public sealed class MissingTemplateVariablesException(IReadOnlyList<string> names, string message)
    : TemplateException(message)
{
    public IReadOnlyList<string> Names { get; } = names;
}

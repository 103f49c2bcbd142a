using System.Text;

namespace Promptd.Core.Templates;

/// <summary>
/// A parsed <c>{{variable}}</c> template: parse once (validating it), render many times.
/// <para>Syntax:</para>
/// <list type="bullet">
/// <item><c>{{name}}</c> or <c>{{ name }}</c> is a placeholder; whitespace inside the braces is ignored.
/// Names follow <see cref="VariableName"/>.</item>
/// <item>Only the pair <c>{{</c> opens a placeholder. Single braces and a lone <c>}}</c> are plain text,
/// so JSON examples such as <c>{"a": {"b": 1}}</c> need no escaping.</item>
/// <item><c>\{{</c> is a literal <c>{{</c> (so <c>\{{name}}</c> renders as the text <c>{{name}}</c>).
/// Directly before <c>{{</c>, <c>\\</c> is one literal backslash, so <c>\\{{name}}</c> is a backslash
/// followed by the value. Backslashes anywhere else are plain text (<c>C:\temp\n</c> stays as written).</item>
/// </list>
/// Values are inserted as literal text in a single pass: a value containing <c>{{x}}</c> is never
/// expanded again, so replacements cannot inject placeholders.
/// </summary>
public sealed class Template
{
    private readonly Segment[] _segments;
    private readonly int _literalLength;

    private Template(string source, Segment[] segments, IReadOnlyList<string> variables)
    {
        Source = source;
        _segments = segments;
        Variables = variables;
        foreach (var s in segments)
        {
            if (s.Variable is null) _literalLength += s.Literal!.Length;
        }
    }

    /// <summary>The text the template was parsed from.</summary>
    public string Source { get; }

    /// <summary>The distinct variable names, in order of first appearance.</summary>
    public IReadOnlyList<string> Variables { get; }

    /// <summary>Parses <paramref name="text"/>; throws <see cref="TemplateSyntaxException"/> naming the position of the first error.</summary>
    public static Template Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var segments = new List<Segment>();
        var variables = new List<string>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var open = text.IndexOf("{{", i, StringComparison.Ordinal);
            if (open < 0)
            {
                literal.Append(text, i, text.Length - i);
                break;
            }

            // Backslashes directly before "{{": pairs are literal backslashes, an odd one escapes the braces.
            var slashes = 0;
            while (open - slashes - 1 >= i && text[open - slashes - 1] == '\\') slashes++;
            literal.Append(text, i, open - slashes - i);
            literal.Append('\\', slashes / 2);
            if (slashes % 2 == 1)
            {
                literal.Append("{{");
                i = open + 2;
                continue;
            }

            var close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0) throw SyntaxError("unclosed placeholder: '{{' without a matching '}}' (write \\{{ for literal braces)", text, open);
            var name = text.AsSpan(open + 2, close - open - 2).Trim();
            if (name.IsEmpty) throw SyntaxError("empty placeholder '{{}}'", text, open);
            if (!VariableName.IsValid(name))
            {
                throw SyntaxError(
                    $"invalid variable name '{Shorten(name)}': names are 1 to {VariableName.MaxLength} letters, digits, '_', '-' or '.' (write \\{{{{ for literal braces)",
                    text, open);
            }

            if (literal.Length > 0)
            {
                segments.Add(new Segment(literal.ToString(), null));
                literal.Clear();
            }
            var nameText = name.ToString();
            segments.Add(new Segment(null, nameText));
            if (!variables.Contains(nameText)) variables.Add(nameText);
            i = close + 2;
        }
        if (literal.Length > 0) segments.Add(new Segment(literal.ToString(), null));
        return new Template(text, [.. segments], variables.AsReadOnly());
    }

    /// <summary>
    /// Renders with <paramref name="replacements"/> (case-sensitive names). Throws
    /// <see cref="MissingTemplateVariablesException"/> listing every variable that has no value.
    /// Extra replacements are ignored here; <see cref="PromptTemplate"/> reports them.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, string> replacements)
    {
        ArgumentNullException.ThrowIfNull(replacements);
        var missing = MissingVariables(Variables, replacements);
        if (missing is not null) throw MissingError(missing, replacements);
        return RenderUnchecked(replacements);
    }

    /// <summary>Renders assuming every variable is present (the caller has checked).</summary>
    internal string RenderUnchecked(IReadOnlyDictionary<string, string> replacements)
    {
        var length = _literalLength;
        foreach (var s in _segments)
        {
            if (s.Variable is not null) length += replacements[s.Variable].Length;
        }
        var result = new StringBuilder(length);
        foreach (var s in _segments)
        {
            result.Append(s.Variable is null ? s.Literal : replacements[s.Variable]);
        }
        return result.ToString();
    }

    internal static List<string>? MissingVariables(IEnumerable<string> variables, IReadOnlyDictionary<string, string> replacements)
    {
        List<string>? missing = null;
        foreach (var name in variables)
        {
            if (!replacements.ContainsKey(name)) (missing ??= []).Add(name);
        }
        return missing;
    }

    internal static MissingTemplateVariablesException MissingError(List<string> missing, IReadOnlyDictionary<string, string> replacements)
    {
        var message = new StringBuilder(missing.Count == 1 ? "missing replacement for variable " : "missing replacements for variables ");
        for (var i = 0; i < missing.Count; i++)
        {
            if (i > 0) message.Append(", ");
            message.Append('\'').Append(missing[i]).Append('\'');
            // A near miss in case is the most common cause; say so rather than leave the client guessing.
            foreach (var key in replacements.Keys)
            {
                if (string.Equals(key, missing[i], StringComparison.OrdinalIgnoreCase))
                {
                    message.Append(" (names are case-sensitive; got '").Append(Shorten(key)).Append("')");
                    break;
                }
            }
        }
        return new MissingTemplateVariablesException(missing.AsReadOnly(), message.ToString());
    }

    private static TemplateSyntaxException SyntaxError(string message, string text, int index)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < index; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return new TemplateSyntaxException(message, line, index - lineStart + 1);
    }

    private static string Shorten(ReadOnlySpan<char> s) => s.Length <= 40 ? s.ToString() : string.Concat(s[..40], "…");

    /// <summary>Either literal text or a variable reference.</summary>
    private readonly record struct Segment(string? Literal, string? Variable);
}

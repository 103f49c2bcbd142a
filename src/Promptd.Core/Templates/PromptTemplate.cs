using Promptd.Core.Engines;

namespace Promptd.Core.Templates;

/// <summary>One message of a template version, before rendering.</summary>
public sealed record TemplateMessage(string Role, string Content);

/// <summary>The messages of a version after rendering, and the replacements nothing used (for the run record).</summary>
public sealed record RenderedPrompt(IReadOnlyList<ChatMessage> Messages, IReadOnlyList<string> UnusedReplacements);

/// <summary>
/// A version's messages parsed once. <see cref="Render"/> checks the replacements against the
/// variables of all messages together: a variable used only in the system message still counts as
/// used, and a missing one is reported with every other missing one.
/// </summary>
public sealed class PromptTemplate
{
    /// <summary>Roles a template message may have; anything else is a syntax error at creation.</summary>
    public static readonly IReadOnlyList<string> Roles = ["system", "user", "assistant"];

    private readonly string[] _roles;
    private readonly Template[] _templates;
    private readonly HashSet<string> _variableSet;

    private PromptTemplate(string[] roles, Template[] templates, IReadOnlyList<string> variables)
    {
        _roles = roles;
        _templates = templates;
        Variables = variables;
        _variableSet = new HashSet<string>(variables, StringComparer.Ordinal);
    }

    /// <summary>Distinct variables over all messages, in order of first appearance.</summary>
    public IReadOnlyList<string> Variables { get; }

    public int MessageCount => _templates.Length;

    /// <summary>
    /// Parses every message. Throws <see cref="TemplateSyntaxException"/> whose message starts with
    /// <c>messages[i]:</c> so the client knows which message is wrong.
    /// </summary>
    public static PromptTemplate Parse(IReadOnlyList<TemplateMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0) throw new TemplateSyntaxException("a template needs at least one message");
        var roles = new string[messages.Count];
        var templates = new Template[messages.Count];
        var variables = new List<string>();
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw new TemplateSyntaxException($"messages[{i}]: missing message");
            if (!Roles.Contains(message.Role))
            {
                throw new TemplateSyntaxException($"messages[{i}]: role must be one of system, user, assistant (got '{message.Role}')");
            }
            try
            {
                templates[i] = Template.Parse(message.Content ?? "");
            }
            catch (TemplateSyntaxException e)
            {
                throw new TemplateSyntaxException($"messages[{i}]: {e.Reason}", e.Line, e.Column);
            }
            roles[i] = message.Role;
            foreach (var name in templates[i].Variables)
            {
                if (!variables.Contains(name)) variables.Add(name);
            }
        }
        return new PromptTemplate(roles, templates, variables.AsReadOnly());
    }

    /// <summary>
    /// Renders every message. Throws <see cref="MissingTemplateVariablesException"/> naming all
    /// missing variables; replacements no message uses come back in
    /// <see cref="RenderedPrompt.UnusedReplacements"/> (ordinal order) rather than failing the run.
    /// </summary>
    public RenderedPrompt Render(IReadOnlyDictionary<string, string> replacements)
    {
        ArgumentNullException.ThrowIfNull(replacements);
        var missing = Template.MissingVariables(Variables, replacements);
        if (missing is not null) throw Template.MissingError(missing, replacements);

        var messages = new ChatMessage[_templates.Length];
        for (var i = 0; i < _templates.Length; i++)
        {
            messages[i] = new ChatMessage(_roles[i], _templates[i].RenderUnchecked(replacements));
        }
        var unused = new List<string>();
        foreach (var key in replacements.Keys)
        {
            if (!_variableSet.Contains(key)) unused.Add(key);
        }
        unused.Sort(StringComparer.Ordinal);
        return new RenderedPrompt(messages, unused.AsReadOnly());
    }
}

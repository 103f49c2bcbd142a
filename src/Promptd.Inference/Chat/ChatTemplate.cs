using System.Text;

namespace Promptd.Inference.Chat;

/// <summary>
/// A chat format of a model family, rendered in code (no Jinja interpreter), as llama.cpp's
/// llm_chat_apply_template does. The output has no BOS: encode it with special tokens added (the
/// tokenizer adds BOS per the vocabulary) and parsed, so "&lt;|im_start|&gt;" becomes its token —
/// best through <see cref="RenderPrompt"/> and <see cref="ChatPrompt.Encode"/>, which keep the
/// messages' own text from producing control tokens.
/// </summary>
public sealed class ChatTemplate
{
    private readonly Family _family;
    private readonly string _endOfSequence;

    private enum Family
    {
        ChatMl,
        Llama2,
        Llama2Sys,
        Llama2SysBos,
        Llama2SysStrip,
        MistralV1,
        MistralV3,
        MistralV3Tekken,
        MistralV7,
        Llama3,
        Zephyr,
        Phi3,
        Phi4,
        Gemma,
    }

    private static readonly (string Name, Family Family)[] Catalog =
    [
        ("chatml", Family.ChatMl),
        ("llama2", Family.Llama2),
        ("llama2-sys", Family.Llama2Sys),
        ("llama2-sys-bos", Family.Llama2SysBos),
        ("llama2-sys-strip", Family.Llama2SysStrip),
        ("mistral-v1", Family.MistralV1),
        ("mistral-v3", Family.MistralV3),
        ("mistral-v3-tekken", Family.MistralV3Tekken),
        ("mistral-v7", Family.MistralV7),
        ("llama3", Family.Llama3),
        ("zephyr", Family.Zephyr),
        ("phi3", Family.Phi3),
        ("phi4", Family.Phi4),
        ("gemma", Family.Gemma),
    ];

    /// <summary>The template's name, as <see cref="FromName"/> takes it (e.g. "chatml", "llama3").</summary>
    public string Name { get; }

    /// <summary>Every name <see cref="FromName"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(Catalog, c => c.Name);

    private ChatTemplate(string name, Family family, string endOfSequence)
    {
        Name = name;
        _family = family;
        _endOfSequence = endOfSequence;
    }

    /// <summary>
    /// A template by name. <paramref name="endOfSequence"/> is the model's EOS text, which Zephyr-style
    /// templates close each turn with (default "&lt;/s&gt;").
    /// </summary>
    public static ChatTemplate FromName(string name, string? endOfSequence = null)
    {
        foreach (var (known, family) in Catalog)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
                return new ChatTemplate(known, family, endOfSequence ?? "</s>");
        }
        throw new ArgumentException($"unknown chat template '{name}' (known: {string.Join(", ", Names)})", nameof(name));
    }

    /// <summary>
    /// Recognizes a model's Jinja template (<c>tokenizer.chat_template</c>) by the markers it contains,
    /// or a template name; null when it is none of the known families.
    /// </summary>
    public static ChatTemplate? Detect(string jinja, string? endOfSequence = null)
    {
        ArgumentNullException.ThrowIfNull(jinja);
        foreach (var (known, _) in Catalog)
        {
            if (jinja == known) return FromName(known, endOfSequence);
        }
        string? name = DetectName(jinja);
        if (name is null) return null;
        // A template that writes its turn terminator literally tells us the text; one that uses
        // eos_token gets the model's EOS.
        if (name == "zephyr" && jinja.Contains("<|endoftext|>", StringComparison.Ordinal)) endOfSequence = "<|endoftext|>";
        return FromName(name, endOfSequence);
    }

    private static string? DetectName(string t)
    {
        bool Has(string s) => t.Contains(s, StringComparison.Ordinal);
        if (Has("<|im_start|>")) return Has("<|im_sep|>") ? "phi4" : "chatml";
        if (t.StartsWith("mistral", StringComparison.Ordinal) || Has("[INST]"))
        {
            if (Has("[SYSTEM_PROMPT]")) return "mistral-v7";
            // Mistral's official v1/v3/v3-tekken templates (mistralai cookbook).
            if (Has("' [INST] ' + system_message") || Has("[AVAILABLE_TOOLS]"))
            {
                if (Has(" [INST]")) return "mistral-v1";
                return Has("\"[INST]\"") ? "mistral-v3-tekken" : "mistral-v3";
            }
            if (Has("content.strip()")) return "llama2-sys-strip";
            if (Has("bos_token + '[INST]")) return "llama2-sys-bos";
            return Has("<<SYS>>") ? "llama2-sys" : "llama2";
        }
        if (Has("<|assistant|>") && Has("<|end|>")) return "phi3";
        if (Has("<|user|>") && Has("<|assistant|>") && (Has("<|endoftext|>") || Has("eos_token"))) return "zephyr";
        if (Has("<start_of_turn>")) return "gemma";
        if (Has("<|start_header_id|>") && Has("<|end_header_id|>")) return "llama3";
        return null;
    }

    /// <summary>
    /// Renders the conversation. With <paramref name="addGenerationPrompt"/> it ends with the opening
    /// of the assistant's turn (the [INST] families end a user turn with [/INST] anyway).
    /// </summary>
    public string Render(IReadOnlyList<ChatTurn> turns, bool addGenerationPrompt = true) =>
        RenderPrompt(turns, addGenerationPrompt).Text;

    /// <summary>
    /// Renders the conversation and remembers where the messages' own text (roles and contents)
    /// lies, so that it can be tokenized without turning special-token look-alikes in it into
    /// control tokens (see <see cref="ChatPrompt.Encode"/>).
    /// </summary>
    public ChatPrompt RenderPrompt(IReadOnlyList<ChatTurn> turns, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(turns);
        var w = new Writer();
        switch (_family)
        {
            case Family.ChatMl:
                foreach (var m in turns) w.Markup("<|im_start|>").Text(m.Role).Markup("\n").Text(m.Content).Markup("<|im_end|>\n");
                if (addGenerationPrompt) w.Markup("<|im_start|>assistant\n");
                break;
            case Family.Phi4:
                foreach (var m in turns) w.Markup("<|im_start|>").Text(m.Role).Markup("<|im_sep|>").Text(m.Content).Markup("<|im_end|>");
                if (addGenerationPrompt) w.Markup("<|im_start|>assistant<|im_sep|>");
                break;
            case Family.Llama2 or Family.Llama2Sys or Family.Llama2SysBos or Family.Llama2SysStrip:
                RenderLlama2(w, turns);
                break;
            case Family.MistralV1 or Family.MistralV3 or Family.MistralV3Tekken:
                RenderMistral(w, turns);
                break;
            case Family.MistralV7:
                foreach (var m in turns)
                {
                    if (m.Role == "system") w.Markup("[SYSTEM_PROMPT] ").Text(m.Content).Markup("[/SYSTEM_PROMPT]");
                    else if (m.Role == "user") w.Markup("[INST] ").Text(m.Content).Markup("[/INST]");
                    else w.Markup(" ").Text(m.Content).Markup("</s>");
                }
                break;
            case Family.Llama3:
                foreach (var m in turns)
                    w.Markup("<|start_header_id|>").Text(m.Role).Markup("<|end_header_id|>\n\n").Text(Trim(m.Content)).Markup("<|eot_id|>");
                if (addGenerationPrompt) w.Markup("<|start_header_id|>assistant<|end_header_id|>\n\n");
                break;
            case Family.Zephyr:
                foreach (var m in turns) w.Markup("<|").Text(m.Role).Markup("|>\n").Text(m.Content).Markup(_endOfSequence + "\n");
                if (addGenerationPrompt) w.Markup("<|assistant|>\n");
                break;
            case Family.Phi3:
                foreach (var m in turns) w.Markup("<|").Text(m.Role).Markup("|>\n").Text(m.Content).Markup("<|end|>\n");
                if (addGenerationPrompt) w.Markup("<|assistant|>\n");
                break;
            case Family.Gemma:
                RenderGemma(w, turns, addGenerationPrompt);
                break;
        }
        return w.ToPrompt();
    }

    /// <summary>[INST] … [/INST] turns; the variants differ in system prompts, BOS between turns and trimming.</summary>
    private void RenderLlama2(Writer w, IReadOnlyList<ChatTurn> turns)
    {
        bool systemBlock = _family != Family.Llama2;
        bool bosBetweenTurns = _family == Family.Llama2SysBos;
        bool strip = _family == Family.Llama2SysStrip;
        bool insideTurn = true;
        w.Markup("[INST] ");
        foreach (var m in turns)
        {
            string content = strip ? Trim(m.Content) : m.Content;
            if (!insideTurn)
            {
                insideTurn = true;
                w.Markup(bosBetweenTurns ? "<s>[INST] " : "[INST] ");
            }
            if (m.Role == "system")
            {
                // Without <<SYS>> support the system prompt still goes first, as plain text.
                if (systemBlock) w.Markup("<<SYS>>\n").Text(content).Markup("\n<</SYS>>\n\n");
                else w.Text(content).Markup("\n");
            }
            else if (m.Role == "user")
            {
                w.Text(content).Markup(" [/INST]");
            }
            else
            {
                w.Text(content).Markup("</s>");
                insideTurn = false;
            }
        }
    }

    /// <summary>Mistral's official formats: v1 has spaces around [INST], v3 trims answers, tekken has no spaces.</summary>
    private void RenderMistral(Writer w, IReadOnlyList<ChatTurn> turns)
    {
        string leading = _family == Family.MistralV1 ? " " : "";
        string trailing = _family == Family.MistralV3Tekken ? "" : " ";
        bool trimAnswers = _family == Family.MistralV3;
        bool insideTurn = false;
        foreach (var m in turns)
        {
            if (!insideTurn)
            {
                w.Markup(leading + "[INST]" + trailing);
                insideTurn = true;
            }
            if (m.Role == "system") w.Text(m.Content).Markup("\n\n");
            else if (m.Role == "user") w.Text(m.Content).Markup(leading + "[/INST]");
            else
            {
                w.Markup(trailing).Text(trimAnswers ? Trim(m.Content) : m.Content).Markup("</s>");
                insideTurn = false;
            }
        }
    }

    /// <summary>Gemma has no system role: the system prompt opens the first user turn. Contents are trimmed.</summary>
    private static void RenderGemma(Writer w, IReadOnlyList<ChatTurn> turns, bool addGenerationPrompt)
    {
        string system = "";
        foreach (var m in turns)
        {
            if (m.Role == "system")
            {
                system = Trim(m.Content);
                continue;
            }
            bool model = m.Role == "assistant";
            w.Markup("<start_of_turn>");
            if (model) w.Markup("model");
            else w.Text(m.Role);
            w.Markup("\n");
            if (system.Length > 0 && !model)
            {
                w.Text(system).Markup("\n\n");
                system = "";
            }
            w.Text(Trim(m.Content)).Markup("<end_of_turn>\n");
        }
        if (addGenerationPrompt) w.Markup("<start_of_turn>model\n");
    }

    /// <summary>Builds the rendered text, noting which parts came from the messages.</summary>
    private sealed class Writer
    {
        private readonly StringBuilder _text = new();
        private readonly List<Range> _messageText = [];

        public Writer Markup(string s)
        {
            _text.Append(s);
            return this;
        }

        public Writer Text(string s)
        {
            if (s.Length > 0) _messageText.Add(new Range(_text.Length, _text.Length + s.Length));
            _text.Append(s);
            return this;
        }

        public ChatPrompt ToPrompt() => new(_text.ToString(), _messageText);
    }

    /// <summary>Trims C white space (space, \t, \n, \v, \f, \r), as the templates' strip()/trim do.</summary>
    private static string Trim(string s) => s.Trim(" \t\n\v\f\r".ToCharArray());
}

using System.Text;

namespace Promptd.Inference.Chat;

/// <summary>
/// A chat format of a model family, rendered in code (no Jinja interpreter), as llama.cpp's
/// llm_chat_apply_template does. The output has no BOS: encode it with special tokens added
/// (the tokenizer adds BOS per the vocabulary) and parsed, so "&lt;|im_start|&gt;" becomes its token.
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
    public string Render(IReadOnlyList<ChatTurn> turns, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(turns);
        var sb = new StringBuilder();
        switch (_family)
        {
            case Family.ChatMl:
                foreach (var m in turns) sb.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
                if (addGenerationPrompt) sb.Append("<|im_start|>assistant\n");
                break;
            case Family.Phi4:
                foreach (var m in turns) sb.Append("<|im_start|>").Append(m.Role).Append("<|im_sep|>").Append(m.Content).Append("<|im_end|>");
                if (addGenerationPrompt) sb.Append("<|im_start|>assistant<|im_sep|>");
                break;
            case Family.Llama2 or Family.Llama2Sys or Family.Llama2SysBos or Family.Llama2SysStrip:
                RenderLlama2(sb, turns);
                break;
            case Family.MistralV1 or Family.MistralV3 or Family.MistralV3Tekken:
                RenderMistral(sb, turns);
                break;
            case Family.MistralV7:
                foreach (var m in turns)
                {
                    if (m.Role == "system") sb.Append("[SYSTEM_PROMPT] ").Append(m.Content).Append("[/SYSTEM_PROMPT]");
                    else if (m.Role == "user") sb.Append("[INST] ").Append(m.Content).Append("[/INST]");
                    else sb.Append(' ').Append(m.Content).Append("</s>");
                }
                break;
            case Family.Llama3:
                foreach (var m in turns)
                    sb.Append("<|start_header_id|>").Append(m.Role).Append("<|end_header_id|>\n\n").Append(Trim(m.Content)).Append("<|eot_id|>");
                if (addGenerationPrompt) sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
                break;
            case Family.Zephyr:
                foreach (var m in turns) sb.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content).Append(_endOfSequence).Append('\n');
                if (addGenerationPrompt) sb.Append("<|assistant|>\n");
                break;
            case Family.Phi3:
                foreach (var m in turns) sb.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content).Append("<|end|>\n");
                if (addGenerationPrompt) sb.Append("<|assistant|>\n");
                break;
            case Family.Gemma:
                RenderGemma(sb, turns, addGenerationPrompt);
                break;
        }
        return sb.ToString();
    }

    /// <summary>[INST] … [/INST] turns; the variants differ in system prompts, BOS between turns and trimming.</summary>
    private void RenderLlama2(StringBuilder sb, IReadOnlyList<ChatTurn> turns)
    {
        bool systemBlock = _family != Family.Llama2;
        bool bosBetweenTurns = _family == Family.Llama2SysBos;
        bool strip = _family == Family.Llama2SysStrip;
        bool insideTurn = true;
        sb.Append("[INST] ");
        foreach (var m in turns)
        {
            string content = strip ? Trim(m.Content) : m.Content;
            if (!insideTurn)
            {
                insideTurn = true;
                sb.Append(bosBetweenTurns ? "<s>[INST] " : "[INST] ");
            }
            if (m.Role == "system")
            {
                // Without <<SYS>> support the system prompt still goes first, as plain text.
                if (systemBlock) sb.Append("<<SYS>>\n").Append(content).Append("\n<</SYS>>\n\n");
                else sb.Append(content).Append('\n');
            }
            else if (m.Role == "user")
            {
                sb.Append(content).Append(" [/INST]");
            }
            else
            {
                sb.Append(content).Append("</s>");
                insideTurn = false;
            }
        }
    }

    /// <summary>Mistral's official formats: v1 has spaces around [INST], v3 trims answers, tekken has no spaces.</summary>
    private void RenderMistral(StringBuilder sb, IReadOnlyList<ChatTurn> turns)
    {
        string leading = _family == Family.MistralV1 ? " " : "";
        string trailing = _family == Family.MistralV3Tekken ? "" : " ";
        bool trimAnswers = _family == Family.MistralV3;
        bool insideTurn = false;
        foreach (var m in turns)
        {
            if (!insideTurn)
            {
                sb.Append(leading).Append("[INST]").Append(trailing);
                insideTurn = true;
            }
            if (m.Role == "system") sb.Append(m.Content).Append("\n\n");
            else if (m.Role == "user") sb.Append(m.Content).Append(leading).Append("[/INST]");
            else
            {
                sb.Append(trailing).Append(trimAnswers ? Trim(m.Content) : m.Content).Append("</s>");
                insideTurn = false;
            }
        }
    }

    /// <summary>Gemma has no system role: the system prompt opens the first user turn. Contents are trimmed.</summary>
    private static void RenderGemma(StringBuilder sb, IReadOnlyList<ChatTurn> turns, bool addGenerationPrompt)
    {
        string system = "";
        foreach (var m in turns)
        {
            if (m.Role == "system")
            {
                system = Trim(m.Content);
                continue;
            }
            string role = m.Role == "assistant" ? "model" : m.Role;
            sb.Append("<start_of_turn>").Append(role).Append('\n');
            if (system.Length > 0 && role != "model")
            {
                sb.Append(system).Append("\n\n");
                system = "";
            }
            sb.Append(Trim(m.Content)).Append("<end_of_turn>\n");
        }
        if (addGenerationPrompt) sb.Append("<start_of_turn>model\n");
    }

    /// <summary>Trims C white space (space, \t, \n, \v, \f, \r), as the templates' strip()/trim do.</summary>
    private static string Trim(string s) => s.Trim(" \t\n\v\f\r".ToCharArray());
}

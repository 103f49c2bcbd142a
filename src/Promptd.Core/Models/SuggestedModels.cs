namespace Promptd.Core.Models;

/// <summary>Models Promptd suggests when it has none (the first start, a fresh data folder).</summary>
public static class SuggestedModels
{
    /// <summary>A small instruct model that answers on any CPU: SmolLM2-135M-Instruct, 8-bit.</summary>
    public const string SmallInstruct = "huggingface/bartowski/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct-Q8_0.gguf";

    public const string SmallInstructDescription = "SmolLM2-135M-Instruct, Q8_0, about 145 MB";
}

using Promptd.TestSupport;

namespace Promptd.Cli.Tests;

public class GenerateCommandTests
{
    private static string Ids(string path) => File.ReadAllText(path).Trim().Replace("\n", ",").Replace(" ", "");

    [FixtureTheory]
    [InlineData("gguf/tiny-llama-f32.gguf", "f32", "gguf/tiny-llama-f32.kvf32.greedy.txt")]
    [InlineData("gguf/tiny-qwen2-Q8_0.gguf", "f16", "gguf/tiny-qwen2-Q8_0.greedy.txt")]
    [InlineData("gguf/tiny-llama-tied-Q6_K.gguf", "f16", "gguf/tiny-llama-tied-Q6_K.greedy.txt")]
    public async Task Greedy_ids_after_the_fixture_prompt_equal_llama_cpp(string model, string kv, string expected)
    {
        string tokens = File.ReadAllText(Fixtures.Path("stories", "tokens.csv")).Trim();
        var result = await PromptdProcess.RunAsync("generate", "--model", Fixtures.Path(model.Split('/')), "--tokens", tokens,
            "--max-tokens", "16", "--greedy", "--ignore-eos", "--kv", kv, "--print-ids");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(Ids(Fixtures.Path(expected.Split('/'))), result.Output.Trim());
    }

    [FixtureFact]
    public async Task Stories260K_reproduces_all_64_greedy_ids_from_bos()
    {
        var result = await PromptdProcess.RunAsync("generate", "--model", Fixtures.Path("stories", "stories260K.gguf"), "--tokens", "1",
            "--max-tokens", "64", "--greedy", "--ignore-eos", "--kv", "f32", "--print-ids");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(Ids(Fixtures.Path("stories", "stories260K.llamacpp.kvf32.greedy.txt")), result.Output.Trim());
    }

    [FixtureFact]
    public async Task The_same_seed_gives_the_same_text_and_another_seed_differs()
    {
        string model = Fixtures.Path("stories", "stories260K.gguf");
        async Task<string> Run(string seed)
        {
            var r = await PromptdProcess.RunAsync("generate", "--model", model, "--tokens", "1", "--max-tokens", "40",
                "--temperature", "1.0", "--top-k", "0", "--top-p", "1", "--min-p", "0", "--seed", seed, "--ignore-eos", "--print-ids");
            Assert.True(r.ExitCode == 0, r.Error);
            Assert.Contains($"seed {seed}", r.Error);
            return r.Output.Trim();
        }
        string a = await Run("42"), b = await Run("42"), c = await Run("43");
        Assert.Equal(40, a.Split(',').Length);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [FixtureFact]
    public async Task Text_prompt_streams_text_and_reports_usage()
    {
        var result = await PromptdProcess.RunAsync("generate", "--model", Fixtures.Path("gguf", "tiny-llama-Q8_0.gguf"),
            "--prompt", "Hello the", "--max-tokens", "5", "--greedy", "--ignore-eos");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Matches(@"\[length: \d+ prompt \+ 5 generated tokens", result.Error);
    }

    [Theory]
    [InlineData(2, "give exactly one of --tokens and --prompt", "--model", "m.gguf")]
    [InlineData(2, "--max-tokens must be a positive integer", "--model", "m.gguf", "--prompt", "x", "--max-tokens", "0")]
    [InlineData(2, "top_p must be between 0 and 1", "--model", "m.gguf", "--prompt", "x", "--top-p", "3")]
    [InlineData(2, "--kv must be f32 or f16", "--model", "m.gguf", "--prompt", "x", "--kv", "q8")]
    [InlineData(2, "is not a token id", "--model", "m.gguf", "--tokens", "1,x")]
    [InlineData(1, "model file not found", "--model", "/nonexistent/m.gguf", "--prompt", "x")]
    public async Task Mistakes_give_one_line_and_a_nonzero_exit_code(int exitCode, string message, params string[] args)
    {
        var result = await PromptdProcess.RunAsync(["generate", .. args]);
        Assert.Equal(exitCode, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", result.Error);
    }
}

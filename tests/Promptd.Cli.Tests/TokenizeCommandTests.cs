using Promptd.TestSupport;

namespace Promptd.Cli.Tests;

public sealed class TokenizeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("promptd-tokenize-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteText(string text)
    {
        string path = Path.Combine(_dir, "text.txt");
        File.WriteAllText(path, text, new System.Text.UTF8Encoding(false));
        return path;
    }

    [FixtureFact]
    public async Task Prints_ids_on_one_line()
    {
        string model = Fixtures.Path("gguf", "tiny-llama-f32.gguf");
        var (code, stdout, stderr) = await PromptdProcess.RunAsync("tokenize", "--model", model, "--text-file", WriteText("Hello world."));
        Assert.Equal(0, code);
        Assert.Equal("1 267 290 298\n", stdout.Replace("\r\n", "\n"));
        Assert.Equal("", stderr);

        (code, stdout, _) = await PromptdProcess.RunAsync("tokenize", "--model", model, "--text-file", WriteText("Hello world."), "--no-bos");
        Assert.Equal("267 290 298", stdout.Trim());
    }

    [FixtureFact]
    public async Task Special_flag_parses_control_tokens()
    {
        string model = Fixtures.Path("gguf", "tiny-qwen2-f32.gguf");
        string text = WriteText("<|im_start|>Hello<|im_end|>");
        var (_, plain, _) = await PromptdProcess.RunAsync("tokenize", "--model", model, "--text-file", text);
        var (code, special, _) = await PromptdProcess.RunAsync("tokenize", "--model", model, "--text-file", text, "--special");
        Assert.Equal(0, code);
        Assert.Equal("298 263 299", special.Trim());
        Assert.DoesNotContain("298", plain.Split(' ', StringSplitOptions.TrimEntries));
    }

    [FixtureFact]
    public async Task Matches_llama_cpp_test_vectors()
    {
        // The vectors were made without BOS/EOS.
        string vocab = Fixtures.Path("vocab", "ggml-vocab-gpt-2.gguf");
        string input = File.ReadAllText(Fixtures.Path("vocab", "ggml-vocab-gpt-2.gguf.inp")).Split("\n__ggml_vocab_test__\n")[27];
        string expected = File.ReadAllLines(Fixtures.Path("vocab", "ggml-vocab-gpt-2.gguf.out"))[27];
        var (code, stdout, _) = await PromptdProcess.RunAsync("tokenize", "--model", vocab, "--text-file", WriteText(input), "--no-bos");
        Assert.Equal(0, code);
        Assert.Equal(expected.Trim(), stdout.Trim());
    }

    [Theory]
    [InlineData(new[] { "tokenize" }, "--model is required")]
    [InlineData(new[] { "tokenize", "--model", "x.gguf" }, "--text-file is required")]
    [InlineData(new[] { "tokenize", "--model" }, "--model needs a value")]
    [InlineData(new[] { "tokenize", "--bogus" }, "unexpected argument '--bogus'")]
    public async Task Usage_errors_are_one_line_with_exit_code_2(string[] args, string message)
    {
        var (code, stdout, stderr) = await PromptdProcess.RunAsync(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Missing_or_corrupt_files_are_one_line_errors_without_stack_traces()
    {
        string text = WriteText("hi");
        var (code, _, stderr) = await PromptdProcess.RunAsync("tokenize", "--model", Path.Combine(_dir, "missing.gguf"), "--text-file", text);
        Assert.Equal(1, code);
        Assert.Equal($"promptd tokenize: model file not found: {Path.Combine(_dir, "missing.gguf")}", stderr.Trim());

        string corrupt = Path.Combine(_dir, "corrupt.gguf");
        File.WriteAllBytes(corrupt, new byte[100]);
        (code, _, stderr) = await PromptdProcess.RunAsync("tokenize", "--model", corrupt, "--text-file", text);
        Assert.Equal(1, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", stderr);

        (code, _, stderr) = await PromptdProcess.RunAsync("tokenize", "--model", corrupt, "--text-file", Path.Combine(_dir, "missing.txt"));
        Assert.Equal(1, code);
        Assert.Contains("missing.txt", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }
}

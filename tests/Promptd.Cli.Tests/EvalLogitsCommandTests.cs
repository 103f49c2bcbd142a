using System.Runtime.InteropServices;
using Promptd.Inference.Gguf;
using Promptd.Inference.Models;
using Promptd.Inference.Synthetic;
using Promptd.TestSupport;

namespace Promptd.Cli.Tests;

public class EvalLogitsCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "promptd-cli-tests-" + Guid.NewGuid().ToString("N"));
    private readonly string _model;

    public EvalLogitsCommandTests()
    {
        Directory.CreateDirectory(_dir);
        _model = Path.Combine(_dir, "model.gguf");
        SyntheticModel.Write(_model, new SyntheticModelSpec
        {
            EmbeddingLength = 64, HeadCount = 4, KvHeadCount = 2, FeedForwardLength = 128, LayerCount = 2, VocabSize = 300,
            ContextLength = 32, WeightType = GgmlType.Q8_0, Sigma = 0.05f,
        });
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Out => Path.Combine(_dir, "logits.bin");

    private static float[] Floats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    [Theory]
    [InlineData("f16", KvCacheType.F16)]
    [InlineData("f32", KvCacheType.F32)]
    public async Task Writes_the_logits_of_every_token_as_the_library_computes_them(string kv, KvCacheType cache)
    {
        int[] tokens = [1, 50, 100, 7, 260];
        var result = await PromptdProcess.RunAsync("eval-logits", "--model", _model, "--tokens", string.Join(',', tokens), "--out", Out, "--kv", kv);
        Assert.True(result.ExitCode == 0, result.Error);

        using var model = TransformerModel.Load(_model);
        using var session = model.CreateSession(new InferenceSessionOptions { KvCacheType = cache });
        var expected = new float[tokens.Length * 300];
        session.Evaluate(tokens, expected);
        Assert.Equal(expected, Floats(Out));
    }

    [FixtureFact]
    public async Task Matches_llama_cpp_on_a_fixture_model()
    {
        var result = await PromptdProcess.RunAsync("eval-logits", "--model", Fixtures.Path("gguf", "tiny-llama-f32.gguf"),
            "--tokens", "1,50,100,7,260,33,299,12,5,120", "--out", Out, "--kv", "f32");
        Assert.True(result.ExitCode == 0, result.Error);
        var expected = Floats(Fixtures.Path("gguf", "tiny-llama-f32.kvf32.logits.bin"));
        var actual = Floats(Out);
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) <= 1e-3f);
    }

    public static TheoryData<string[], int, string> Mistakes => new()
    {
        { ["--model", "/nonexistent/model.gguf", "--tokens", "1", "--out", "x.bin"], 1, "model file not found: /nonexistent/model.gguf" },
        { ["--tokens", "1", "--out", "x.bin"], 2, "usage: promptd eval-logits" },
        { ["--model", "MODEL", "--tokens", "1,two", "--out", "x.bin"], 2, "'two' is not a token id" },
        { ["--model", "MODEL", "--tokens", "1,-5", "--out", "x.bin"], 2, "'-5' is not a token id" },
        { ["--model", "MODEL", "--tokens", "1,300", "--out", "x.bin"], 2, "token id 300 is outside the vocabulary" },
        { ["--model", "MODEL", "--tokens", "1", "--out", "x.bin", "--kv", "q8"], 2, "--kv must be f32 or f16" },
        { ["--model", "MODEL", "--tokens", "1", "--out", "x.bin", "--fast"], 2, "unknown option '--fast'" },
        { ["--model", "MODEL", "--tokens", "1", "--out", "/nonexistent/dir/x.bin"], 1, "/nonexistent/dir/x.bin" },
        { ["--model", "NOT-GGUF", "--tokens", "1", "--out", "x.bin"], 1, "bad magic" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task Mistakes_give_one_line_and_a_nonzero_exit_code(string[] args, int exitCode, string message)
    {
        string notGguf = Path.Combine(_dir, "not.gguf");
        File.WriteAllText(notGguf, "this is not a model file at all");
        var resolved = args.Select(a => a switch { "MODEL" => _model, "NOT-GGUF" => notGguf, "x.bin" => Out, _ => a }).ToArray();
        var result = await PromptdProcess.RunAsync(["eval-logits", .. resolved]);
        Assert.Equal(exitCode, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", result.Error); // no stack trace
        Assert.False(File.Exists(Out));
    }
}

using System.Text.RegularExpressions;
using Promptd.Inference.Gguf;
using Promptd.Inference.Synthetic;
using Promptd.Server;

namespace Promptd.Cli.Tests;

/// <summary>
/// `promptd run` and `promptd chat` as real processes: a GGUF model loaded in the process, or a
/// running server reached through its /v1 API (--server), with piped input and Ctrl+C.
/// </summary>
public sealed partial class RunAndChatCommandTests : IAsyncLifetime
{
    private const string Model = "huggingface/test/tiny-qwen2/tiny-qwen2-Q8_0.gguf";
    private const string Key = "cli-test-admin-key-0123456789";

    private readonly string _data = Directory.CreateTempSubdirectory("promptd-chat-").FullName;
    private PromptdServer _server = null!;

    private string Url => _server.Urls[0];

    public async Task InitializeAsync()
    {
        var path = Path.Combine([_data, "models", .. Model.Split('/')]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SyntheticModel.Write(path, SyntheticModelSpec.Tiny with { Architecture = "qwen2", WeightType = GgmlType.Q8_0, Seed = 11 });
        _server = await PromptdServer.StartAsync(new PromptdServerOptions { DataDirectory = _data, Urls = "http://127.0.0.1:0", AdminKey = Key, Console = TextWriter.Null });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Run_streams_the_answer_of_a_local_model_and_a_server_gives_the_same()
    {
        var local = await PromptdSession.RunAsync("", "run", Model, "Hello the world", "--data", _data, "--temperature", "0", "--max-tokens", "6");
        var remote = await PromptdSession.RunAsync("", "run", Model, "Hello the world", "--server", Url, "--api-key", Key, "--temperature", "0", "--max-tokens", "6");

        Assert.True(local.ExitCode == 0, local.Error);
        Assert.True(remote.ExitCode == 0, remote.Error);
        Assert.EndsWith("\n", local.Output);
        Assert.True(local.Output.Trim('\n').Length > 0, "an answer");
        // Greedy decoding of the same model: in this process or on the server, the same text.
        Assert.Equal(local.Output, remote.Output);
    }

    [Fact]
    public async Task Chat_keeps_the_conversation_across_piped_lines()
    {
        var chat = await PromptdSession.RunAsync("Hello\nHello again\n", "chat", Model, "--data", _data, "--temperature", "0", "--max-tokens", "4", "--verbose");

        Assert.True(chat.ExitCode == 0, chat.Error);
        var stats = Stats().Matches(chat.Error).Select(m => (Prompt: int.Parse(m.Groups[1].Value), Generated: int.Parse(m.Groups[2].Value))).ToList();
        Assert.Equal(2, stats.Count);
        // The second question is sent with the first question and its answer before it.
        Assert.True(stats[1].Prompt > stats[0].Prompt + stats[0].Generated, $"{stats[1].Prompt} vs {stats[0].Prompt} + {stats[0].Generated}");
        Assert.Equal(2, chat.Output.Count(c => c == '\n'));
        Assert.DoesNotContain(">>>", chat.Output); // no prompt when the input is not a terminal
    }

    [Fact]
    public async Task Chat_through_a_server_streams_each_answer_and_clear_starts_over()
    {
        var chat = await PromptdSession.RunAsync("first question\n/clear\n\nsecond question\n", "chat", "promptd/echo", "--server", Url, "--api-key", Key);

        Assert.True(chat.ExitCode == 0, chat.Error);
        Assert.Equal("first question\nsecond question\n", chat.Output);
    }

    [Fact]
    public async Task Ctrl_c_stops_an_answer_and_the_chat_goes_on()
    {
        // Slow enough that a loaded machine still interrupts the answer in the middle.
        await using var chat = PromptdSession.Start("chat", "promptd/echo/500ms", "--data", _data);
        await chat.WriteLineAsync("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty");
        await chat.WaitForAsync(o => o.Contains("two"), "the answer to start");

        chat.Interrupt();
        await chat.WaitForAsync(e => e.Contains("[stopped]"), "the answer to stop", error: true);
        await chat.WriteLineAsync("again");
        await chat.WaitForAsync(o => o.EndsWith("again\n", StringComparison.Ordinal), "the next answer");
        chat.Input.Close();

        Assert.Equal(0, await chat.WaitForExitAsync());
        Assert.DoesNotContain("twenty", chat.Output);
    }

    [Fact]
    public async Task Mistakes_get_one_clear_line()
    {
        var missing = await PromptdSession.RunAsync("", "run", "huggingface/test/missing/missing-Q8_0.gguf", "hi", "--data", _data);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("is not installed", missing.Error);
        Assert.Contains($"installed: {Model}", missing.Error);

        var wrongKey = await PromptdSession.RunAsync("", "run", "promptd/echo", "hi", "--server", Url, "--api-key", "not-the-key-0000000000");
        Assert.Equal(1, wrongKey.ExitCode);
        Assert.Contains("HTTP 401", wrongKey.Error);
        Assert.DoesNotContain("   at ", wrongKey.Error);

        var unknown = await PromptdSession.RunAsync("", "run", "no/such-model", "hi", "--server", Url, "--api-key", Key);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("does not exist", unknown.Error);

        var usage = await PromptdSession.RunAsync("", "chat");
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("usage: promptd chat MODEL", usage.Error);

        // The reference's example model id has no repository part: the error shows the full form.
        var noRepo = await PromptdSession.RunAsync("", "models", "pull", "huggingface/TheBloke/mistral-7b-instruct-v0.2.Q3_K_S.gguf", "--data", _data);
        Assert.Equal(2, noRepo.ExitCode);
        Assert.Contains("huggingface/TheBloke/mistral-7b-instruct-v0.2-GGUF/mistral-7b-instruct-v0.2.Q3_K_S.gguf", noRepo.Error);
    }

    [GeneratedRegex(@"\[(?:stop|length): (\d+) prompt \+ (\d+) generated tokens")]
    private static partial Regex Stats();
}

using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Promptd.Server.Tests.Support;

/// <summary>
/// <c>promptd serve</c> in its own process (the real executable, built next to the tests), so a
/// test can kill it with SIGKILL and start it again on the same data folder.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _output = [];

    private ServerProcess(Process process) => _process = process;

    public string BaseUrl { get; private set; } = "";
    public int Pid => _process.Id;

    /// <summary>What the process has printed so far (standard output and error, line by line).</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_output) return [.. _output];
        }
    }

    public static async Task<ServerProcess> StartAsync(string dataDirectory, params string[] extraArgs)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "promptd.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])[dll, "serve", "--urls", "http://127.0.0.1:0", "--data", dataDirectory, .. extraArgs]) info.ArgumentList.Add(a);
        info.Environment["PROMPTD_ADMIN_KEY"] = TestServer.AdminKey;
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var server = new ServerProcess(Process.Start(info)!);
        server._process.EnableRaisingEvents = true;
        // A server that refuses to start (bad settings) exits at once: report that instead of waiting.
        server._process.Exited += (_, _) =>
        {
            server._process.WaitForExit(); // the rest of its output
            server._url.TrySetException(new InvalidOperationException(
                $"promptd serve exited with {server._process.ExitCode} before listening:\n" + string.Join("\n", server.Output)));
        };
        server._process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        var started = await Task.WhenAny(server._url.Task, Task.Delay(TimeSpan.FromSeconds(60)));
        if (started != server._url.Task)
        {
            await server.DisposeAsync();
            throw new TimeoutException("promptd serve did not start: " + string.Join("\n", server._output));
        }
        server.BaseUrl = await server._url.Task;
        return server;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
        var m = ListeningLine().Match(line);
        if (m.Success) _url.TrySetResult(m.Groups[1].Value);
    }

    [GeneratedRegex(@"^Promptd listening on (http://[^ ,]+)")]
    private static partial Regex ListeningLine();

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

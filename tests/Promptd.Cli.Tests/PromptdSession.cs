using System.Diagnostics;
using System.Text;

namespace Promptd.Cli.Tests;

/// <summary>
/// The real `promptd` executable run as a person would in a terminal: standard input written as
/// the test goes, output read as it streams (not only whole lines), and Ctrl+C sent as SIGINT.
/// </summary>
public sealed class PromptdSession : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly Task _readers;

    private PromptdSession(Process process)
    {
        _process = process;
        _readers = Task.WhenAll(PumpAsync(process.StandardOutput, _output), PumpAsync(process.StandardError, _error));
    }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public string Error
    {
        get
        {
            lock (_error) return _error.ToString();
        }
    }

    public StreamWriter Input => _process.StandardInput;

    public static PromptdSession Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "promptd.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        return new PromptdSession(Process.Start(start)!);
    }

    /// <summary>Runs to the end with <paramref name="input"/> on standard input.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string input, params string[] args)
    {
        await using var session = Start(args);
        await session.Input.WriteAsync(input);
        session.Input.Close();
        var code = await session.WaitForExitAsync();
        return (code, session.Output, session.Error);
    }

    public async Task WriteLineAsync(string line)
    {
        await Input.WriteLineAsync(line);
        await Input.FlushAsync();
    }

    /// <summary>Waits until what was printed (standard output, or error with <paramref name="error"/>) satisfies <paramref name="condition"/>.</summary>
    public async Task WaitForAsync(Func<string, bool> condition, string what, bool error = false)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition(error ? Error : Output))
        {
            if (DateTime.UtcNow > deadline || _process.HasExited && !condition(error ? Error : Output))
                Assert.Fail($"{what} never came. Output:\n{Output}\nError:\n{Error}");
            await Task.Delay(20);
        }
    }

    /// <summary>Ctrl+C: SIGINT to the process.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"promptd did not finish. Output:\n{Output}\nError:\n{Error}");
        }
        await _readers;
        return _process.ExitCode;
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[1024];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            lock (into) into.Append(buffer, 0, n);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        await _readers;
        _process.Dispose();
    }
}

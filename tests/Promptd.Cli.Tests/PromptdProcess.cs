using System.Diagnostics;

namespace Promptd.Cli.Tests;

/// <summary>Runs the real `promptd` executable (built next to the tests) as scripts do, and captures its output.</summary>
public static class PromptdProcess
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "promptd.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"promptd {string.Join(' ', args)} did not finish");
        }
        return new Result(process.ExitCode, await output, await error);
    }
}

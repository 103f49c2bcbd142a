using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Promptd.Inference.Tests.Kernels;

/// <summary>
/// The quantized tiles are fast only while the JIT inlines every helper they call (the format's
/// loads, the dot products, the float step). Past its inlining limits the JIT quietly calls them
/// instead: a change that made one tile larger once left a third of the tiles calling helpers per
/// block, 30 % slower, with every result still right. This test reads the code the JIT writes for
/// every tile of every format and path (DOTNET_JitDisasm in a process of its own, which runs
/// Promptd.KernelCodegen) and fails on any call left in it.
/// </summary>
public sealed partial class KernelCodegenTests
{
    [Fact]
    public void Quantized_tiles_call_no_helpers()
    {
        string program = Path.Combine(
            AppContext.BaseDirectory.Replace("Promptd.Inference.Tests", "Promptd.KernelCodegen", StringComparison.Ordinal),
            "Promptd.KernelCodegen.dll");
        Assert.True(File.Exists(program), $"{program} is missing: build the solution (the test project builds it first)");
        string listing = Path.Combine(Path.GetTempPath(), $"promptd-jit-{Guid.NewGuid():N}.txt");
        try
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.ArgumentList.Add(program);
            start.Environment["DOTNET_JitDisasm"] = "Tile TileOfEight Row";
            start.Environment["DOTNET_JitStdOutFile"] = listing;
            start.Environment.Remove("PROMPTD_KERNELS");
            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(120_000), "Promptd.KernelCodegen did not finish in two minutes");
            Assert.True(process.ExitCode == 0, $"Promptd.KernelCodegen failed: {output}");

            var methods = File.ReadAllText(listing).Split("; Assembly listing for method ")[1..];
            var tiles = new List<string>();
            var offenders = new List<string>();
            foreach (string method in methods)
            {
                string name = method[..method.IndexOf('\n')];
                if (!name.Contains("QuantKernel`2", StringComparison.Ordinal)) continue;
                tiles.Add(name);
                // JIT helpers (the stack cookie's check, a class's static base) are not our code;
                // a call to a managed method is a helper that was not inlined.
                var calls = ManagedCall().Matches(method).Select(m => m.Groups[1].Value).Distinct().ToList();
                if (calls.Count > 0) offenders.Add($"{Shorten(name)} calls {string.Join(", ", calls.Select(Shorten))}");
            }
            // Every format has a one-token row or tile and the tiles of up to four tokens on each path.
            Assert.True(tiles.Count >= 40, $"only {tiles.Count} tile listings were written: is DOTNET_JitDisasm supported?\n{output}");
            Assert.True(offenders.Count == 0, string.Join('\n', offenders));
        }
        finally
        {
            File.Delete(listing);
        }
    }

    private static string Shorten(string name) => name.Replace("Promptd.Inference.Kernels.Simd.", "", StringComparison.Ordinal);

    [GeneratedRegex(@"^\s+call\s+\[(.+)\]\s*$", RegexOptions.Multiline)]
    private static partial Regex ManagedCall();
}

using Xunit;

namespace Promptd.TestSupport;

/// <summary>
/// Finds ../shared/fixtures (next to the repository; PROMPTD_FIXTURES overrides). Tests that need
/// them use <see cref="FixtureFactAttribute"/> / <see cref="FixtureTheoryAttribute"/> and are
/// reported skipped, not passed, when the folder is absent.
/// </summary>
public static class Fixtures
{
    private static readonly Lazy<string?> LazyRoot = new(FindRoot);

    public static string? Root => LazyRoot.Value;
    public static bool Available => Root is not null;

    /// <summary>Full path of a file under the fixtures folder, e.g. Path("gguf", "tiny-llama-f32.gguf").</summary>
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([Root ?? throw new InvalidOperationException("fixtures not found"), .. parts]);

    /// <summary>The repository root (the folder holding Promptd.slnx).</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Promptd.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException("repository root (Promptd.slnx) not found above " + AppContext.BaseDirectory);
    }

    private static string? FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("PROMPTD_FIXTURES");
        if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? env : null;
        var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot(), "..", "shared", "fixtures"));
        return Directory.Exists(candidate) ? candidate : null;
    }
}

/// <summary>A fact that needs ../shared/fixtures: skipped when they are absent.</summary>
public sealed class FixtureFactAttribute : FactAttribute
{
    public FixtureFactAttribute()
    {
        if (!Fixtures.Available) Skip = "../shared/fixtures not found (set PROMPTD_FIXTURES)";
    }
}

/// <summary>A theory that needs ../shared/fixtures: skipped when they are absent.</summary>
public sealed class FixtureTheoryAttribute : TheoryAttribute
{
    public FixtureTheoryAttribute()
    {
        if (!Fixtures.Available) Skip = "../shared/fixtures not found (set PROMPTD_FIXTURES)";
    }
}

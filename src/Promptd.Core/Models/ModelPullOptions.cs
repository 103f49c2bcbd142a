namespace Promptd.Core.Models;

/// <summary>Where and how <see cref="ModelPuller"/> downloads.</summary>
public sealed class ModelPullOptions
{
    public static readonly Uri DefaultBaseUrl = new("https://huggingface.co/");

    /// <summary>The Hugging Face host (a mirror, or a local server in tests): files are at {base}/OWNER/REPO/resolve/REVISION/FILE.</summary>
    public Uri BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>Access token for gated or private repositories (sent as a Bearer token, never logged).</summary>
    public string? Token { get; set; }

    /// <summary>The branch, tag or commit to download from.</summary>
    public string Revision { get; set; } = "main";

    /// <summary>Attempts in a row that gain no bytes before the pull gives up; an attempt that makes progress resets the count.</summary>
    public int MaxAttempts { get; set; } = 5;

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait for the next bytes of the body (and for the response headers) before the attempt counts as failed.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Least time between two progress reports while bytes flow.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(200);
}

namespace Promptd.Core.Models;

public enum PullStage
{
    /// <summary>Another pull of the same model (in another process) holds the download; this one waits for it.</summary>
    Waiting,
    Downloading,
    /// <summary>All bytes are in; the size and GGUF header are being checked.</summary>
    Verifying,
    Installed,
}

/// <summary>
/// A progress report. <see cref="BytesDone"/> counts bytes on disk, including those of an earlier,
/// resumed attempt; <see cref="TotalBytes"/> is null while the server has not said it.
/// <see cref="BytesPerSecond"/> is the average rate of this pull's transfer so far.
/// </summary>
public readonly record struct PullProgress(PullStage Stage, long BytesDone, long? TotalBytes, double BytesPerSecond);

/// <summary>The installed model. <see cref="AlreadyInstalled"/>: nothing had to be downloaded.</summary>
public sealed record PullResult(ModelId Id, string Path, long SizeBytes, bool AlreadyInstalled);

public enum PullFailure
{
    /// <summary>The file does not exist upstream (HTTP 404).</summary>
    NotFound,
    /// <summary>Gated or private repository: a token is missing or lacks access (HTTP 401/403).</summary>
    AccessDenied,
    /// <summary>The transfer kept failing; what was downloaded is kept for the next attempt to resume.</summary>
    Transfer,
    /// <summary>The downloaded bytes are not a valid GGUF file (or not the announced size); they were deleted.</summary>
    Corrupt,
    /// <summary>The server answered something a download cannot use.</summary>
    Rejected,
}

/// <summary>A pull that failed; the message is one line, fit for a terminal or an HTTP error body.</summary>
public sealed class ModelPullException(PullFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    public PullFailure Failure { get; } = failure;
}

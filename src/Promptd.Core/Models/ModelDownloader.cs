using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Promptd.Inference.Gguf;

namespace Promptd.Core.Models;

/// <summary>
/// Downloads one model file: into FILE.part, resuming with an HTTP Range request what an earlier
/// attempt (or an earlier process) left there; then checks the size and the GGUF structure and
/// renames the file into place. A file with the final name is therefore always complete and valid.
/// A lock file, held exclusively for the whole download, keeps other pulls of the same file out (in
/// any process) and remembers the server's ETag, so a resume never splices two versions together.
/// </summary>
internal sealed class ModelDownloader(HttpMessageInvoker http, ModelPullOptions options)
{
    private const int BufferBytes = 256 * 1024;

    /// <summary>
    /// Installs <paramref name="url"/>'s content at <paramref name="target"/>, holding the lock file
    /// <paramref name="lockPath"/> throughout; returns its size and whether it was already there.
    /// </summary>
    public async Task<(long Size, bool AlreadyInstalled)> DownloadAsync(Uri url, string target, string lockPath, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        string partPath = target + ModelsFolder.PartSuffix;
        using var lockFile = await LockAsync(lockPath, progress, cancellationToken);
        // Another process may have installed it while this one waited for the lock.
        if (File.Exists(target)) return (new FileInfo(target).Length, true);
        try
        {
            long size = await TransferAsync(url, partPath, lockFile, progress, cancellationToken);
            progress?.Report(new PullProgress(PullStage.Verifying, size, size, 0));
            Verify(partPath);
            File.Move(partPath, target, overwrite: false);
            progress?.Report(new PullProgress(PullStage.Installed, size, size, 0));
            return (size, false);
        }
        catch (ModelPullException e) when (e.Failure == PullFailure.Corrupt)
        {
            // Resuming corrupt bytes cannot help: the next pull starts from nothing.
            TryDelete(partPath);
            throw;
        }
        finally
        {
            // An empty part (the server refused at once, or a cancel before any byte) is not worth keeping.
            if (new FileInfo(partPath) is { Exists: true, Length: 0 }) TryDelete(partPath);
        }
    }

    /// <summary>Takes the exclusive lock, waiting while another pull (in any process) holds it.</summary>
    private static async Task<FileStream> LockAsync(string lockPath, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        bool reported = false;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (HeldByAnother(e))
            {
                if (!reported) progress?.Report(new PullProgress(PullStage.Waiting, 0, null, 0));
                reported = true;
                await Task.Delay(250, cancellationToken);
            }
        }
    }

    /// <summary>
    /// The open failed because someone holds the lock: a sharing or lock violation on Windows; on
    /// Unix .NET takes FileShare.None as flock(LOCK_EX | LOCK_NB), which fails with EWOULDBLOCK.
    /// </summary>
    private static bool HeldByAnother(IOException e) =>
        OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 32 or 33
        : e.HResult == (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 35 : 11);

    /// <summary>Fills FILE.part with the whole file, retrying and resuming; returns its size.</summary>
    private async Task<long> TransferAsync(Uri url, string partPath, FileStream lockFile, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        await using var part = new FileStream(partPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous);
        var transfer = new Transfer(progress, options.ProgressInterval);
        int fruitlessAttempts = 0;
        while (true)
        {
            long before = part.Length;
            try
            {
                long size = await AttemptAsync(url, part, lockFile, transfer, cancellationToken);
                part.Flush(flushToDisk: true);
                return size;
            }
            catch (TransientException e)
            {
                fruitlessAttempts = part.Length > before ? 0 : fruitlessAttempts + 1;
                if (fruitlessAttempts >= options.MaxAttempts)
                {
                    string kept = part.Length > 0 ? $"; the {ByteSize.Format(part.Length)} downloaded so far are kept and the next pull resumes from there" : "";
                    throw new ModelPullException(PullFailure.Transfer,
                        $"download failed after {fruitlessAttempts} attempt{(fruitlessAttempts == 1 ? "" : "s")} without progress: {e.Message}{kept}", e);
                }
                await Task.Delay(Backoff.Delay(Math.Max(0, fruitlessAttempts - 1), options.InitialBackoff, options.MaxBackoff), cancellationToken);
            }
        }
    }

    /// <summary>
    /// One request. Returns the file size once FILE.part holds the whole file; throws
    /// <see cref="TransientException"/> for failures worth retrying.
    /// </summary>
    private async Task<long> AttemptAsync(Uri url, FileStream part, FileStream lockFile, Transfer transfer, CancellationToken cancellationToken)
    {
        long have = part.Length;
        string? etag = have > 0 ? ReadValidator(lockFile) : null;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(options.IdleTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (options.Token is { } token) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (have > 0)
        {
            request.Headers.Range = new RangeHeaderValue(have, null);
            if (etag is not null) request.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue(etag));
        }
        try
        {
            using var response = await http.SendAsync(request, idle.Token);
            long? total;
            switch (response.StatusCode)
            {
                case HttpStatusCode.PartialContent:
                    var range = response.Content.Headers.ContentRange;
                    if (range?.From != have)
                    {
                        part.SetLength(0);
                        throw new TransientException("the server sent another range than asked for; starting over");
                    }
                    total = range.Length;
                    break;
                case HttpStatusCode.OK:
                    // The server ignored the range, or the file changed since (If-Range): start over.
                    part.SetLength(0);
                    have = 0;
                    total = response.Content.Headers.ContentLength;
                    break;
                case HttpStatusCode.RequestedRangeNotSatisfiable:
                    // Asked for bytes past the end: the part is complete if it is exactly the file's size.
                    if (response.Content.Headers.ContentRange?.Length == have) return have;
                    part.SetLength(0);
                    throw new TransientException("the server refused the range of the partial download; starting over");
                default:
                    throw Failure(response.StatusCode);
            }
            if (response.Headers.ETag is { IsWeak: false } tag && tag.Tag != etag) WriteValidator(lockFile, tag.Tag);
            if (total < have) throw new ModelPullException(PullFailure.Corrupt, $"the server announced {total} bytes but {have} are already downloaded");

            part.Position = have;
            transfer.Report(have, total);
            await using var body = await response.Content.ReadAsStreamAsync(idle.Token);
            have = await CopyAsync(body, part, have, total, transfer, idle, cancellationToken);
            if (total is { } expected && have != expected)
            {
                if (have > expected) throw new ModelPullException(PullFailure.Corrupt, $"the server sent {have} bytes, more than the {expected} it announced");
                throw new TransientException($"the connection closed after {ByteSize.Format(have)} of {ByteSize.Format(expected)}");
            }
            transfer.Report(have, total, force: true);
            return have;
        }
        catch (HttpRequestException e)
        {
            throw new TransientException(HttpErrors.Describe(e), e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransientException($"no data from the server for {options.IdleTimeout.TotalSeconds:0.#}s", e);
        }
    }

    private async Task<long> CopyAsync(Stream body, FileStream part, long have, long? total, Transfer transfer, CancellationTokenSource idle, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            while (true)
            {
                idle.CancelAfter(options.IdleTimeout);
                int n;
                try
                {
                    n = await body.ReadAsync(buffer, idle.Token);
                }
                catch (IOException e)
                {
                    throw new TransientException($"the connection broke after {ByteSize.Format(have)}", e);
                }
                if (n == 0) return have;
                if (total is { } t && have + n > t) n = (int)(t - have + 1); // keep one byte too many: enough to reject the file, never an unbounded write
                try
                {
                    await part.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                }
                catch (IOException e)
                {
                    throw new ModelPullException(PullFailure.Transfer, $"could not write the download to disk: {e.Message}", e);
                }
                have += n;
                transfer.Add(n);
                transfer.Report(have, total);
                if (total is { } limit && have > limit) return have;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static Exception Failure(HttpStatusCode status)
    {
        int code = (int)status;
        return code switch
        {
            404 => new ModelPullException(PullFailure.NotFound, "the file was not found on the server (HTTP 404); check the owner, repository and file name"),
            401 or 403 => new ModelPullException(PullFailure.AccessDenied,
                $"access denied (HTTP {code}): the repository may be gated or private; pass a token with access to it"),
            408 or 429 or >= 500 => new TransientException($"the server answered HTTP {code}"),
            _ => new ModelPullException(PullFailure.Rejected, $"the server answered HTTP {code}"),
        };
    }

    /// <summary>Rejects a file that is not a complete GGUF model (bad magic, truncated, inconsistent tables).</summary>
    private static void Verify(string partPath)
    {
        try
        {
            using var gguf = GgufFile.Open(partPath);
        }
        catch (InvalidDataException e)
        {
            string reason = e.Message.StartsWith(partPath + ": ", StringComparison.Ordinal) ? e.Message[(partPath.Length + 2)..] : e.Message;
            throw new ModelPullException(PullFailure.Corrupt, $"the downloaded file is not a valid GGUF model ({reason}); it was not installed", e);
        }
    }

    private static string? ReadValidator(FileStream lockFile)
    {
        if (lockFile.Length is 0 or > 1024) return null;
        var bytes = new byte[lockFile.Length];
        lockFile.Position = 0;
        lockFile.ReadExactly(bytes);
        var text = Encoding.UTF8.GetString(bytes).Trim();
        return text.Length > 2 && text[0] == '"' && text[^1] == '"' ? text : null;
    }

    private static void WriteValidator(FileStream lockFile, string etag)
    {
        lockFile.SetLength(0);
        lockFile.Position = 0;
        lockFile.Write(Encoding.UTF8.GetBytes(etag));
        lockFile.Flush(flushToDisk: true);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left behind, it is harmless: the next pull of the model reuses or replaces it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A failure the next attempt may not meet (network, timeout, 5xx, 429).</summary>
    private sealed class TransientException(string message, Exception? inner = null) : Exception(message, inner);

    /// <summary>Counts this pull's bytes for the rate and throttles progress reports.</summary>
    private sealed class Transfer(IProgress<PullProgress>? progress, TimeSpan interval)
    {
        private long _bytes;
        private long _started;
        private long _lastReport;

        public void Add(int bytes)
        {
            if (_started == 0) _started = Stopwatch.GetTimestamp();
            _bytes += bytes;
        }

        public void Report(long done, long? total, bool force = false)
        {
            if (progress is null) return;
            long now = Stopwatch.GetTimestamp();
            if (!force && _lastReport != 0 && Stopwatch.GetElapsedTime(_lastReport, now) < interval) return;
            _lastReport = now;
            double seconds = _started == 0 ? 0 : Stopwatch.GetElapsedTime(_started, now).TotalSeconds;
            progress.Report(new PullProgress(PullStage.Downloading, done, total, seconds > 0 ? _bytes / seconds : 0));
        }
    }
}

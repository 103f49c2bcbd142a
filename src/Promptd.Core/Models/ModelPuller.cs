using System.Net;

namespace Promptd.Core.Models;

/// <summary>
/// Downloads models into the models folder: <c>huggingface/OWNER/REPO/FILE.gguf</c> comes from
/// {BaseUrl}/OWNER/REPO/resolve/{Revision}/FILE.gguf. Pulls of the same model at the same time
/// share one download (each caller gets the progress); pulls from other processes wait for it.
/// The download goes on while at least one caller still waits for it. Thread-safe; one instance
/// per models folder is meant to live as long as the server.
/// </summary>
public sealed class ModelPuller : IDisposable
{
    private readonly ModelPullOptions _options;
    private readonly HttpMessageInvoker _http;
    private readonly ModelDownloader _downloader;
    private readonly Lock _gate = new();
    private readonly Dictionary<ModelId, SharedPull> _active = [];

    public ModelPuller(ModelsFolder folder, ModelPullOptions? options = null)
    {
        Folder = folder;
        _options = options ?? new ModelPullOptions();
        if (!_options.BaseUrl.IsAbsoluteUri || (_options.BaseUrl.Scheme != Uri.UriSchemeHttp && _options.BaseUrl.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException("the download base URL must be an absolute http or https URL");
        if (_options.MaxAttempts < 1) throw new ArgumentException("MaxAttempts must be at least 1");
        _http = new HttpMessageInvoker(new SocketsHttpHandler
        {
            ConnectTimeout = _options.ConnectTimeout,
            // Hugging Face answers "resolve" with a redirect to its CDN; the handler drops the token on the way.
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 10,
            AutomaticDecompression = DecompressionMethods.None,
            MaxResponseDrainSize = 0,
            UseCookies = false,
        }, disposeHandler: true);
        _downloader = new ModelDownloader(_http, _options);
    }

    public ModelsFolder Folder { get; }

    /// <summary>Where <paramref name="id"/> is downloaded from.</summary>
    public Uri DownloadUrl(ModelId id)
    {
        var s = id.Segments;
        string file = string.Join('/', s.Skip(3).Select(Uri.EscapeDataString));
        string path = $"{Uri.EscapeDataString(s[1])}/{Uri.EscapeDataString(s[2])}/resolve/{Uri.EscapeDataString(_options.Revision)}/{file}";
        // Resolved under the base URL's path, so a mirror at https://host/hf/ works too.
        var root = _options.BaseUrl.AbsoluteUri.EndsWith('/') ? _options.BaseUrl : new Uri(_options.BaseUrl.AbsoluteUri + "/");
        return new Uri(root, path);
    }

    /// <summary>Validates <paramref name="modelId"/> (<see cref="InvalidModelIdException"/>) and pulls it.</summary>
    public Task<PullResult> PullAsync(string modelId, IProgress<PullProgress>? progress = null, CancellationToken cancellationToken = default) =>
        PullAsync(ModelId.Parse(modelId), progress, cancellationToken);

    /// <summary>
    /// Installs the model unless it is already there. Progress reports are made synchronously on the
    /// download's thread (pass an <see cref="IProgress{T}"/> that does not post, to keep their order).
    /// Throws <see cref="ModelPullException"/> when the pull fails; cancelling leaves the partial
    /// download for the next pull to resume.
    /// </summary>
    public async Task<PullResult> PullAsync(ModelId id, IProgress<PullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        string path = Folder.PathOf(id);
        if (File.Exists(path)) return new PullResult(id, path, new FileInfo(path).Length, AlreadyInstalled: true);

        SharedPull pull;
        lock (_gate)
        {
            bool start = !_active.TryGetValue(id, out pull!);
            if (start)
            {
                pull = new SharedPull();
                _active.Add(id, pull);
            }
            // Join before the download starts: its first report (e.g. "waiting" for another
            // process's lock, which is made once) must reach this caller.
            pull.Join(progress);
            if (start) pull.Task = Task.Run(() => RunAsync(id, path, pull));
        }
        try
        {
            return await pull.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            lock (_gate)
            {
                // The last caller to give up stops the download; its .part stays to be resumed.
                if (pull.Leave(progress) && !pull.Task.IsCompleted)
                {
                    pull.Cancel.Cancel();
                    if (_active.GetValueOrDefault(id) == pull) _active.Remove(id);
                }
            }
        }
    }

    private async Task<PullResult> RunAsync(ModelId id, string path, SharedPull pull)
    {
        try
        {
            var (size, already) = await _downloader.DownloadAsync(DownloadUrl(id), path, Folder.LockPathOf(id), pull, pull.Cancel.Token);
            return new PullResult(id, path, size, already);
        }
        finally
        {
            lock (_gate)
            {
                if (_active.GetValueOrDefault(id) == pull) _active.Remove(id);
            }
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>One download and the callers waiting for it; reports its progress to all of them.</summary>
    private sealed class SharedPull : IProgress<PullProgress>
    {
        private readonly List<IProgress<PullProgress>> _observers = [];
        private int _callers;

        public Task<PullResult> Task = null!;
        public readonly CancellationTokenSource Cancel = new();

        public void Join(IProgress<PullProgress>? progress)
        {
            _callers++;
            if (progress is null) return;
            lock (_observers) _observers.Add(progress);
        }

        /// <summary>True when no caller is left.</summary>
        public bool Leave(IProgress<PullProgress>? progress)
        {
            if (progress is not null)
            {
                lock (_observers) _observers.Remove(progress);
            }
            return --_callers == 0;
        }

        public void Report(PullProgress value)
        {
            IProgress<PullProgress>[] observers;
            lock (_observers) observers = [.. _observers];
            foreach (var o in observers) o.Report(value);
        }
    }
}

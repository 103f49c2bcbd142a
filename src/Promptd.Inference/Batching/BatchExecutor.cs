using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Promptd.Inference.Generation;
using Promptd.Inference.Models;
using Promptd.Inference.Sampling;
using Promptd.Inference.Tokenization;

namespace Promptd.Inference.Batching;

/// <summary>Receives the logits a request's next token is sampled from (on the executor's thread).</summary>
internal delegate void LogitsObserver(int[] prompt, ReadOnlySpan<float> logits);

/// <summary>
/// Continuous batching for one model: every generation handed to <see cref="GenerateAsync(ReadOnlyMemory{int}, Sampler, GenerationOptions, CancellationToken)"/>
/// runs in one shared loop that, step after step, puts a token of each generating sequence and
/// chunks of the prompts being read into a single forward pass — the weights are read once per step
/// for all of them, so total tokens/s grows with the number of concurrent generations until the
/// CPU is saturated. While sequences generate, a pass reads at most
/// <see cref="BatchExecutorOptions.MaxPromptTokensWhileGenerating"/> prompt tokens, so a long prompt
/// arriving delays their next token by one short pass. Sequences join and leave between steps;
/// each has its own KV cache, position, sampler, stop strings and token limit, and is cancelled
/// between tokens.
///
/// With <see cref="BatchExecutorOptions.PrefixCache"/> a cache keeps its tokens after its sequence
/// ends, and a new sequence starts in the free cache that shares the longest prefix with its prompt
/// (a template's system prompt, a thread's earlier turns): that prefix is not evaluated again, and
/// the logits are the same as without the cache. The API is <see cref="TextGenerator"/>'s.
/// </summary>
public sealed class BatchExecutor : IDisposable
{
    /// <summary>
    /// A sequence whose reader has this many chunks unread waits (the others go on) until it reads:
    /// generation keeps pace with its reader, and a cancelled reader wastes little.
    /// </summary>
    internal const int MaxUnreadChunks = 4;

    private readonly TransformerModel _model;
    private readonly Tokenizer _tokenizer;
    private readonly BatchExecutorOptions _options;
    private readonly ForwardPass _pass;
    private readonly KvSlot[] _slots;
    private readonly ConcurrentQueue<BatchRequest> _incoming = new();
    private readonly List<BatchRequest> _waiting = [];
    private readonly List<BatchRequest> _active = [];
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    private readonly Thread _thread;

    // Per-step buffers, allocated once.
    private readonly int[] _tokens;
    private readonly SequenceSlice[] _slices;
    private readonly BatchRequest?[] _sliceRequests;
    private readonly int[] _logitRows;
    private readonly BatchRequest?[] _logitRequests;
    private readonly float[] _logits;

    private long _requests, _steps, _evaluated, _reused, _clock;
    private volatile bool _disposed;
    private Exception? _failure;

    public BatchExecutor(TransformerModel model, Tokenizer tokenizer, BatchExecutorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        options ??= new BatchExecutorOptions();
        options.Validate();
        _model = model;
        _tokenizer = tokenizer;
        _options = options;
        var c = model.Config;
        ContextLength = options.ContextLength ?? Math.Min(c.TrainedContextLength, InferenceSessionOptions.DefaultMaxContextLength);
        int batch = Math.Min(options.MaxBatchTokens, options.MaxSequences * ContextLength);
        model.AddReference();
        try
        {
            _pass = new ForwardPass(model, batch, ContextLength, options.KvCacheType);
        }
        catch
        {
            model.Release();
            throw;
        }
        _slots = new KvSlot[options.MaxSequences];
        for (int i = 0; i < _slots.Length; i++) _slots[i] = new KvSlot(ContextLength);
        _tokens = new int[batch];
        _slices = new SequenceSlice[options.MaxSequences];
        _sliceRequests = new BatchRequest?[options.MaxSequences];
        _logitRows = new int[options.MaxSequences];
        _logitRequests = new BatchRequest?[options.MaxSequences];
        _logits = new float[(long)options.MaxSequences * c.VocabSize];
        _thread = new Thread(Loop) { IsBackground = true, Name = "promptd-batch" };
        _thread.Start();
    }

    /// <summary>Tokens each sequence's cache holds.</summary>
    public int ContextLength { get; }

    /// <summary>For tests: sees the logits each token of each request is sampled from.</summary>
    internal LogitsObserver? ObserveLogits { get; set; }

    /// <summary>For tests: before each pass, its generated tokens, its prompt tokens, and whether any sequence was generating.</summary>
    internal Action<int, int, bool>? ObservePass { get; set; }

    public BatchExecutorOptions Options => _options;

    public BatchExecutorStatistics Statistics => new(
        Interlocked.Read(ref _requests), Interlocked.Read(ref _steps), Interlocked.Read(ref _evaluated), Interlocked.Read(ref _reused));

    /// <summary>Tokenizes a raw prompt (BOS per the vocabulary, special tokens parsed) and generates from it.</summary>
    public IAsyncEnumerable<GenerationChunk> GenerateAsync(string prompt, Sampler sampler, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return GenerateAsync(_tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true), sampler, options, cancellationToken);
    }

    /// <summary>
    /// Generates after <paramref name="prompt"/> in a sequence of its own. Bad arguments and a prompt
    /// that does not fit <see cref="ContextLength"/> (<see cref="ContextOverflowException"/>) throw
    /// here; the generation starts when the stream is first read. Cancellation ends the stream with
    /// <see cref="FinishReason.Cancelled"/> between tokens; a reader that stops reading ends it too.
    /// </summary>
    public IAsyncEnumerable<GenerationChunk> GenerateAsync(ReadOnlyMemory<int> prompt, Sampler sampler, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is { } failure) throw new InvalidOperationException($"the batch executor stopped after an error: {failure.Message}", failure);
        GenerationStream.Validate(prompt.Span, sampler, options, _model.Config.VocabSize, 0, ContextLength);
        return Read(prompt.ToArray(), sampler, options, cancellationToken);
    }

    private async IAsyncEnumerable<GenerationChunk> Read(int[] prompt, Sampler sampler, GenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new BatchRequest
        {
            Prompt = prompt,
            Stream = new GenerationStream(_tokenizer, sampler, options, prompt.Length, Stopwatch.GetTimestamp()),
            Cancellation = cancellationToken,
        };
        // Wake the loop when the request is cancelled, so a waiting request ends at once.
        using var registration = cancellationToken.Register(static s => ((BatchExecutor)s!).Wake(), this);
        Interlocked.Increment(ref _requests);
        _incoming.Enqueue(request);
        Wake();
        bool finished = false;
        try
        {
            await foreach (var chunk in request.Output.Reader.ReadAllAsync(CancellationToken.None))
            {
                finished = chunk.IsFinal;
                // Text generated ahead of a reader that has since cancelled is not its answer: as from
                // TextGenerator, after a cancel only the final chunk (Cancelled, with usage) comes out.
                if (finished || !cancellationToken.IsCancellationRequested) yield return chunk;
                // Read: a sequence that waited for its reader may go on.
                if (Interlocked.Decrement(ref request.Unread) == MaxUnreadChunks - 1) Wake();
            }
        }
        finally
        {
            if (!finished)
            {
                request.Abandoned = true;
                Wake();
            }
        }
    }

    private void Wake()
    {
        try
        {
            _signal.Release();
        }
        catch (ObjectDisposedException)
        {
            // The executor is gone; its loop has ended every stream already.
        }
    }

    private void Loop()
    {
        while (!_disposed)
        {
            try
            {
                Admit();
                if (!Step()) _signal.Wait();
            }
            catch (Exception e)
            {
                // A bug, not bad input (that is refused up front): every stream gets the exception, and
                // so does every later request (GenerateAsync refuses new ones; this catches the racing ones).
                _failure ??= e;
                Fail(_failure);
            }
        }
        // Disposed: whoever is still waiting or generating ends now.
        foreach (var request in _active) End(request, cancel: true);
        _active.Clear();
        while (_incoming.TryDequeue(out var request)) _waiting.Add(request);
        foreach (var request in _waiting) End(request, cancel: true);
        _waiting.Clear();
    }

    /// <summary>Moves arrived requests into free caches, the one sharing the longest prefix with each prompt first.</summary>
    private void Admit()
    {
        if (_failure is not null)
        {
            Fail(_failure);
            return;
        }
        while (_incoming.TryDequeue(out var arrived)) _waiting.Add(arrived);
        // Requests cancelled while they waited end now, place or no place.
        for (int i = _waiting.Count - 1; i >= 0; i--)
        {
            if (!_waiting[i].WantsToStop) continue;
            End(_waiting[i], cancel: true);
            _waiting.RemoveAt(i);
        }
        while (_waiting.Count > 0 && _active.Count < _slots.Length)
        {
            var request = _waiting[0];
            _waiting.RemoveAt(0);
            var slot = ChooseSlot(request.Prompt, out int reuse);
            slot.Busy = true;
            slot.Cache ??= new KvCache(_options.KvCacheType, _model.Config.LayerCount, ContextLength, _model.Config.KvHeadCount, _model.Config.HeadDimension);
            slot.Length = reuse;
            request.Slot = slot;
            request.PromptDone = reuse;
            request.Stream.CachedPromptTokens = reuse;
            Interlocked.Add(ref _reused, reuse);
            _active.Add(request);
        }
    }

    private KvSlot ChooseSlot(int[] prompt, out int reuse)
    {
        KvSlot? best = null;
        reuse = -1;
        foreach (var slot in _slots)
        {
            if (slot.Busy) continue;
            // At least one prompt token is evaluated: its logits start the generation.
            int common = _options.PrefixCache ? Math.Min(slot.CommonPrefix(prompt), prompt.Length - 1) : 0;
            if (common > reuse || (common == reuse && slot.LastUsed < best!.LastUsed))
            {
                best = slot;
                reuse = common;
            }
        }
        best!.LastUsed = ++_clock;
        return best;
    }

    /// <summary>
    /// One forward pass: a token for each generating sequence whose reader keeps up, then prompt
    /// chunks while the batch has room. False when there was nothing to do.
    /// </summary>
    private bool Step()
    {
        for (int i = _active.Count - 1; i >= 0; i--)
        {
            var request = _active[i];
            if (!request.WantsToStop) continue;
            _active.RemoveAt(i);
            End(request, cancel: true);
        }

        int n = 0, slices = 0;
        bool generating = false;
        foreach (var request in _active)
        {
            if (request.Reading) continue;
            generating = true;
            if (Volatile.Read(ref request.Unread) >= MaxUnreadChunks) continue;
            _tokens[n] = request.PendingToken;
            AddSlice(request, ref slices, n, 1);
            n++;
        }
        // While sequences generate, prompts get a bounded share of the pass (chunked prefill).
        int generated = n, end = generating ? Math.Min(_tokens.Length, n + _options.MaxPromptTokensWhileGenerating) : _tokens.Length;
        foreach (var request in _active)
        {
            if (!request.Reading || n == end) continue;
            int count = Math.Min(request.Prompt.Length - request.PromptDone, end - n);
            request.Prompt.AsSpan(request.PromptDone, count).CopyTo(_tokens.AsSpan(n));
            AddSlice(request, ref slices, n, count);
            n += count;
        }
        if (n == 0) return false;
        ObservePass?.Invoke(generated, n - generated, generating);

        _pass.Run(_tokens.AsSpan(0, n), _slices.AsSpan(0, slices));
        Interlocked.Increment(ref _steps);
        Interlocked.Add(ref _evaluated, n);

        // Logits for every sequence whose prompt is now read, or whose generated token was evaluated.
        int rows = 0;
        for (int s = 0; s < slices; s++)
        {
            var request = _sliceRequests[s]!;
            var slice = _slices[s];
            var slot = request.Slot!;
            _tokens.AsSpan(slice.Offset, slice.Count).CopyTo(slot.Tokens.AsSpan(slot.Length));
            slot.Length += slice.Count;
            if (request.Reading)
            {
                request.PromptDone += slice.Count;
                if (request.Reading) continue;
                request.Stream.AcceptPrompt(request.Prompt);
            }
            _logitRows[rows] = slice.Offset + slice.Count - 1;
            _logitRequests[rows++] = request;
        }
        Array.Clear(_sliceRequests, 0, slices);
        if (rows == 0) return true;
        int vocab = _model.Config.VocabSize;
        _pass.ComputeLogits(_logitRows.AsSpan(0, rows), _logits.AsSpan(0, rows * vocab));

        for (int r = 0; r < rows; r++)
        {
            var request = _logitRequests[r]!;
            _logitRequests[r] = null;
            ObserveLogits?.Invoke(request.Prompt, _logits.AsSpan(r * vocab, vocab));
            var chunk = request.Stream.Next(_logits.AsSpan(r * vocab, vocab), request.Slot!.Length, ContextLength);
            Interlocked.Increment(ref request.Unread);
            request.Output.Writer.TryWrite(chunk);
            if (request.Stream.Finish is null)
            {
                request.PendingToken = chunk.TokenId!.Value;
                continue;
            }
            _active.Remove(request);
            End(request, cancel: false);
        }
        return true;
    }

    private void AddSlice(BatchRequest request, ref int slices, int offset, int count)
    {
        var slot = request.Slot!;
        _slices[slices] = new SequenceSlice { Cache = slot.Cache!, Start = slot.Length, Count = count, Offset = offset };
        _sliceRequests[slices++] = request;
    }

    /// <summary>Writes the final chunk and frees the request's cache (its tokens stay for prefix reuse).</summary>
    private static void End(BatchRequest request, bool cancel)
    {
        if (cancel) request.Stream.Cancel();
        request.Output.Writer.TryWrite(request.Stream.Final());
        request.Output.Writer.TryComplete();
        if (request.Slot is { } slot) slot.Busy = false;
    }

    private void Fail(Exception e)
    {
        foreach (var request in _active)
        {
            request.Output.Writer.TryComplete(e);
            if (request.Slot is { } slot) slot.Busy = false;
        }
        _active.Clear();
        while (_incoming.TryDequeue(out var request)) request.Output.Writer.TryComplete(e);
        foreach (var request in _waiting) request.Output.Writer.TryComplete(e);
        _waiting.Clear();
    }

    /// <summary>Stops the loop; generations still running or waiting end with <see cref="FinishReason.Cancelled"/>.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _signal.Release();
        _thread.Join();
        _signal.Dispose();
        _model.Release();
    }
}

using System.Threading.Channels;
using Promptd.Inference.Generation;
using Promptd.Inference.Models;

namespace Promptd.Inference.Batching;

/// <summary>A KV cache a sequence runs in, with the tokens it holds (kept after the sequence for prefix reuse).</summary>
internal sealed class KvSlot(int context)
{
    public KvCache? Cache;

    /// <summary>The tokens whose keys and values are in <see cref="Cache"/>: Tokens[0 .. Length).</summary>
    public readonly int[] Tokens = new int[context];
    public int Length;
    public bool Busy;
    public long LastUsed;

    /// <summary>How many leading tokens of <paramref name="prompt"/> this cache already holds.</summary>
    public int CommonPrefix(ReadOnlySpan<int> prompt) => Tokens.AsSpan(0, Length).CommonPrefixLength(prompt);
}

/// <summary>One generation inside a <see cref="BatchExecutor"/>: its prompt, its output stream, where it is.</summary>
internal sealed class BatchRequest
{
    public required int[] Prompt { get; init; }
    public required GenerationStream Stream { get; init; }
    public required CancellationToken Cancellation { get; init; }

    /// <summary>Chunks for the reader; written by the executor thread only.</summary>
    public Channel<GenerationChunk> Output { get; } = Channel.CreateUnbounded<GenerationChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public KvSlot? Slot;

    /// <summary>Prompt tokens already in the cache (evaluated or reused).</summary>
    public int PromptDone;

    /// <summary>The sampled token still to be evaluated, or −1 while the prompt is being read.</summary>
    public int PendingToken = -1;

    /// <summary>Chunks written and not yet read (the executor waits for a reader that falls behind).</summary>
    public int Unread;

    /// <summary>Set when the reader stopped reading before the end.</summary>
    public volatile bool Abandoned;

    public bool Reading => PromptDone < Prompt.Length;

    public bool WantsToStop => Abandoned || Cancellation.IsCancellationRequested;
}

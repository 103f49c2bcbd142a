namespace Promptd.Inference;

/// <summary>
/// One sequence's forward pass over a loaded model, with its own KV cache. Tokens are appended at
/// <see cref="Position"/>; <see cref="Rewind"/> drops the cache after a prefix so it can be reused.
/// Generation, sampling and batching are built on top of this.
/// </summary>
public interface IInferenceSession : IDisposable
{
    int VocabSize { get; }
    int ContextLength { get; }

    /// <summary>Number of tokens already in the KV cache.</summary>
    int Position { get; }

    /// <summary>
    /// Evaluates <paramref name="tokens"/> in one batch after the cached ones. Writes the logits of the
    /// last token to <paramref name="logits"/> (length <see cref="VocabSize"/>), or of every token when
    /// it is tokens.Length × VocabSize long.
    /// </summary>
    void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits);

    /// <summary>Forgets cached tokens from <paramref name="position"/> on.</summary>
    void Rewind(int position);
}

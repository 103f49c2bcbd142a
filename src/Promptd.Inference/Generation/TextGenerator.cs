using System.Diagnostics;
using System.Runtime.CompilerServices;
using Promptd.Inference.Sampling;
using Promptd.Inference.Tokenization;

namespace Promptd.Inference.Generation;

/// <summary>
/// The generation loop: evaluates the prompt in one batch, then samples and evaluates one token at
/// a time, streaming text as it becomes final (whole UTF-8 characters, nothing that may belong to
/// a stop string). Cancellation is checked between tokens and ends the stream with
/// <see cref="FinishReason.Cancelled"/> rather than an exception.
/// </summary>
public sealed class TextGenerator(IInferenceSession session, Tokenizer tokenizer)
{
    /// <summary>Tokenizes a raw prompt (BOS per the vocabulary, special tokens parsed) and generates from it.</summary>
    public IAsyncEnumerable<GenerationChunk> GenerateAsync(string prompt, Sampler sampler, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return GenerateAsync(tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true), sampler, options, cancellationToken);
    }

    /// <summary>
    /// Generates after <paramref name="prompt"/>, which is appended to whatever the session already
    /// holds (rewind the session first for a fresh sequence). Bad arguments and a prompt that does
    /// not fit the context (<see cref="ContextOverflowException"/>) throw here, before anything is evaluated.
    /// </summary>
    public IAsyncEnumerable<GenerationChunk> GenerateAsync(ReadOnlyMemory<int> prompt, Sampler sampler, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        GenerationStream.Validate(prompt.Span, sampler, options, session.VocabSize, session.Position, session.ContextLength);
        return Run(prompt, sampler, options, cancellationToken);
    }

    private async IAsyncEnumerable<GenerationChunk> Run(ReadOnlyMemory<int> prompt, Sampler sampler, GenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = new GenerationStream(tokenizer, sampler, options, prompt.Length, Stopwatch.GetTimestamp());
        // The forward pass is CPU work: leave the caller's thread before it starts.
        await Task.Yield();

        var logits = new float[session.VocabSize];
        var next = new int[1];
        if (cancellationToken.IsCancellationRequested)
        {
            stream.Cancel();
        }
        else
        {
            session.Evaluate(prompt.Span, logits);
            stream.AcceptPrompt(prompt.Span);
            while (true)
            {
                var chunk = stream.Next(logits, session.Position, session.ContextLength);
                yield return chunk;
                if (cancellationToken.IsCancellationRequested) stream.Cancel();
                if (stream.Finish is not null) break;
                next[0] = chunk.TokenId!.Value;
                session.Evaluate(next, logits);
            }
        }
        yield return stream.Final();
    }
}

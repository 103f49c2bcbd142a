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
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (prompt.IsEmpty) throw new ArgumentException("the prompt is empty: there is nothing to generate from", nameof(prompt));
        if (sampler.VocabSize != session.VocabSize)
            throw new ArgumentException($"the sampler is for {sampler.VocabSize} tokens but the model has {session.VocabSize}", nameof(sampler));
        foreach (int id in prompt.Span)
        {
            if ((uint)id >= (uint)session.VocabSize)
                throw new ArgumentException($"prompt token {id} is outside the vocabulary (0..{session.VocabSize - 1})", nameof(prompt));
        }
        if (session.Position + prompt.Length > session.ContextLength)
            throw new ContextOverflowException(prompt.Length, session.Position, session.ContextLength);
        return Run(prompt, sampler, options, cancellationToken);
    }

    private async IAsyncEnumerable<GenerationChunk> Run(ReadOnlyMemory<int> prompt, Sampler sampler, GenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        // The forward pass is CPU work: leave the caller's thread before it starts.
        await Task.Yield();

        var vocabulary = tokenizer.Vocabulary;
        var text = tokenizer.CreateTextStream(options.RenderSpecialTokens);
        var stops = new StopStringMatcher(options.StopStrings);
        var logits = new float[session.VocabSize];
        var next = new int[1];
        int completion = 0;
        long firstToken = 0;
        FinishReason finish;

        if (cancellationToken.IsCancellationRequested)
        {
            finish = FinishReason.Cancelled;
        }
        else
        {
            session.Evaluate(prompt.Span, logits);
            if (options.PenalizePromptTokens)
            {
                foreach (int id in prompt.Span) sampler.Accept(id);
            }
            while (true)
            {
                int id = sampler.Sample(logits);
                sampler.Accept(id);
                if (++completion == 1) firstToken = Stopwatch.GetTimestamp();

                if (options.StopAtEndOfGeneration && vocabulary.IsEndOfGeneration(id))
                {
                    yield return new GenerationChunk("", id);
                    finish = FinishReason.Stop;
                    break;
                }
                // A model may have more output rows than the vocabulary has tokens (padding); they have no text.
                string piece = id < vocabulary.Count ? text.Append(id) : "";
                yield return new GenerationChunk(stops.Append(piece), id);
                if (stops.Stopped)
                {
                    finish = FinishReason.Stop;
                    break;
                }
                if (completion >= options.MaxTokens || session.Position >= session.ContextLength)
                {
                    finish = FinishReason.Length;
                    break;
                }
                if (cancellationToken.IsCancellationRequested)
                {
                    finish = FinishReason.Cancelled;
                    break;
                }
                next[0] = id;
                session.Evaluate(next, logits);
            }
        }

        // Whatever was held back is final now: an unfinished character, text that never became a stop.
        string tail = stops.Append(text.Flush()) + stops.Flush();
        long end = Stopwatch.GetTimestamp();
        var result = new GenerationResult(
            finish,
            PromptTokens: finish == FinishReason.Cancelled && completion == 0 ? 0 : prompt.Length,
            CompletionTokens: completion,
            TimeToFirstToken: completion > 0 ? Stopwatch.GetElapsedTime(start, firstToken) : TimeSpan.Zero,
            GenerationTime: completion > 0 ? Stopwatch.GetElapsedTime(firstToken, end) : TimeSpan.Zero,
            StopString: stops.MatchedStop);
        yield return new GenerationChunk(tail, null, result);
    }
}

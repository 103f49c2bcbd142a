using System.Diagnostics;
using Promptd.Inference.Sampling;
using Promptd.Inference.Tokenization;

namespace Promptd.Inference.Generation;

/// <summary>
/// One sequence's output side of generation, whoever runs the forward passes (a
/// <see cref="TextGenerator"/> over a session, or the batch executor): samples each token, turns it
/// into streamed text (whole UTF-8 characters, nothing that may belong to a stop string), decides
/// when generation ends, and builds the final chunk with the timings. Not thread-safe.
/// </summary>
internal sealed class GenerationStream
{
    private readonly Tokenizer _tokenizer;
    private readonly Sampler _sampler;
    private readonly GenerationOptions _options;
    private readonly TokenTextStream _text;
    private readonly StopStringMatcher _stops;
    private readonly long _start;
    private long _firstToken;

    /// <param name="start">When the request started (before the prompt was evaluated), for the time to the first token.</param>
    public GenerationStream(Tokenizer tokenizer, Sampler sampler, GenerationOptions options, int promptTokens, long start)
    {
        _tokenizer = tokenizer;
        _sampler = sampler;
        _options = options;
        _text = tokenizer.CreateTextStream(options.RenderSpecialTokens);
        _stops = new StopStringMatcher(options.StopStrings);
        PromptTokens = promptTokens;
        _start = start;
    }

    public int PromptTokens { get; }

    /// <summary>Prompt tokens whose keys and values came from a cache instead of being evaluated.</summary>
    public int CachedPromptTokens { get; set; }

    /// <summary>Tokens generated so far (an end-of-generation token included).</summary>
    public int Completion { get; private set; }

    /// <summary>Why generation ended, once it has.</summary>
    public FinishReason? Finish { get; private set; }

    /// <summary>Lets the prompt count for the repetition penalties (when the options say so).</summary>
    public void AcceptPrompt(ReadOnlySpan<int> prompt)
    {
        if (!_options.PenalizePromptTokens) return;
        foreach (int id in prompt) _sampler.Accept(id);
    }

    /// <summary>
    /// Samples the next token from <paramref name="logits"/> and returns its chunk; sets
    /// <see cref="Finish"/> when this token ends generation. <paramref name="position"/> is the number
    /// of tokens in the sequence's cache; the token is evaluated next unless generation ends here.
    /// </summary>
    public GenerationChunk Next(ReadOnlySpan<float> logits, int position, int contextLength)
    {
        int id = _sampler.Sample(logits);
        _sampler.Accept(id);
        if (++Completion == 1) _firstToken = Stopwatch.GetTimestamp();

        var vocabulary = _tokenizer.Vocabulary;
        if (_options.StopAtEndOfGeneration && vocabulary.IsEndOfGeneration(id))
        {
            Finish = FinishReason.Stop;
            return new GenerationChunk("", id);
        }
        // A model may have more output rows than the vocabulary has tokens (padding); they have no text.
        string piece = id < vocabulary.Count ? _text.Append(id) : "";
        var chunk = new GenerationChunk(_stops.Append(piece), id);
        if (_stops.Stopped) Finish = FinishReason.Stop;
        else if (Completion >= _options.MaxTokens || position >= contextLength) Finish = FinishReason.Length;
        return chunk;
    }

    /// <summary>Ends the stream early (cancelled before or between tokens), unless it has ended already.</summary>
    public void Cancel() => Finish ??= FinishReason.Cancelled;

    /// <summary>The last chunk: whatever text was held back, and the result.</summary>
    public GenerationChunk Final()
    {
        var finish = Finish ?? throw new InvalidOperationException("generation has not finished");
        // Whatever was held back is final now: an unfinished character, text that never became a stop.
        string tail = _stops.Append(_text.Flush()) + _stops.Flush();
        long end = Stopwatch.GetTimestamp();
        var result = new GenerationResult(
            finish,
            PromptTokens: finish == FinishReason.Cancelled && Completion == 0 ? 0 : PromptTokens,
            CompletionTokens: Completion,
            TimeToFirstToken: Completion > 0 ? Stopwatch.GetElapsedTime(_start, _firstToken) : TimeSpan.Zero,
            GenerationTime: Completion > 0 ? Stopwatch.GetElapsedTime(_firstToken, end) : TimeSpan.Zero,
            StopString: _stops.MatchedStop)
        {
            CachedPromptTokens = finish == FinishReason.Cancelled && Completion == 0 ? 0 : CachedPromptTokens,
        };
        return new GenerationChunk(tail, null, result);
    }

    /// <summary>
    /// The checks every generation makes before it starts: arguments (ArgumentException) and room in
    /// the context (<see cref="ContextOverflowException"/>).
    /// </summary>
    public static void Validate(ReadOnlySpan<int> prompt, Sampler sampler, GenerationOptions options, int vocabSize, int cached, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (prompt.IsEmpty) throw new ArgumentException("the prompt is empty: there is nothing to generate from", nameof(prompt));
        if (sampler.VocabSize != vocabSize)
            throw new ArgumentException($"the sampler is for {sampler.VocabSize} tokens but the model has {vocabSize}", nameof(sampler));
        foreach (int id in prompt)
        {
            if ((uint)id >= (uint)vocabSize)
                throw new ArgumentException($"prompt token {id} is outside the vocabulary (0..{vocabSize - 1})", nameof(prompt));
        }
        if (cached + prompt.Length > contextLength)
            throw new ContextOverflowException(prompt.Length, cached, contextLength);
    }
}

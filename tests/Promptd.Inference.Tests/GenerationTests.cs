using System.Text;
using Promptd.Inference.Generation;
using Promptd.Inference.Sampling;
using Promptd.Inference.Tokenization;

namespace Promptd.Inference.Tests;

/// <summary>
/// The generation loop against a scripted forward pass (the real model is built elsewhere; the
/// end-to-end test comes when both are merged). The test vocabulary is byte-level BPE where token
/// id = byte, so scripts are written as text.
/// </summary>
public class GenerationTests
{
    private static readonly Tokenizer Tokenizer = TokenizerTestVocabularies.Bpe();
    private static readonly int Eot = Tokenizer.Vocabulary.Count - 1;

    /// <summary>
    /// Deterministic session: after the tokens so far, the next token's logit is 10 and all others 0,
    /// where the next token is read from a script (or given by a function). Records every batch.
    /// </summary>
    private sealed class ScriptedSession(int contextLength, Func<IReadOnlyList<int>, int> next) : IInferenceSession
    {
        public readonly List<int> Tokens = [];
        public readonly List<int> BatchSizes = [];
        public int VocabSize => Tokenizer.Vocabulary.Count;
        public int ContextLength => contextLength;
        public int Position => Tokens.Count;

        public ScriptedSession(int contextLength, string script, bool endWithEot = true)
            : this(contextLength, FromScript(script, endWithEot)) { }

        private static Func<IReadOnlyList<int>, int> FromScript(string script, bool endWithEot)
        {
            var bytes = Encoding.UTF8.GetBytes(script).Select(b => (int)b).ToList();
            if (endWithEot) bytes.Add(Eot);
            int promptLength = -1;
            return tokens =>
            {
                if (promptLength < 0) promptLength = tokens.Count;
                int i = tokens.Count - promptLength;
                return i < bytes.Count ? bytes[i] : 'x';
            };
        }

        public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits)
        {
            if (Position + tokens.Length > ContextLength) throw new InvalidOperationException("context overflow in the session");
            BatchSizes.Add(tokens.Length);
            Tokens.AddRange(tokens.ToArray());
            logits.Clear();
            logits[next(Tokens)] = 10;
        }

        public void Rewind(int position) => Tokens.RemoveRange(position, Tokens.Count - position);
        public void Dispose() { }
    }

    private static int[] Prompt(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();

    private static async Task<(List<GenerationChunk> Chunks, GenerationResult Result)> Collect(IAsyncEnumerable<GenerationChunk> stream, Action<GenerationChunk, int>? onChunk = null)
    {
        var chunks = new List<GenerationChunk>();
        await foreach (var chunk in stream)
        {
            chunks.Add(chunk);
            onChunk?.Invoke(chunk, chunks.Count);
        }
        var last = chunks[^1];
        Assert.True(last.IsFinal);
        Assert.Null(last.TokenId);
        Assert.All(chunks[..^1], c => Assert.False(c.IsFinal));
        return (chunks, last.Result!);
    }

    private static string TextOf(List<GenerationChunk> chunks) => string.Concat(chunks.Select(c => c.Text));

    private static TextGenerator Generator(ScriptedSession session) => new(session, Tokenizer);
    private static Sampler Greedy() => new(Tokenizer.Vocabulary.Count, SamplingOptions.Greedy);

    [Fact]
    public async Task Evaluates_the_prompt_in_one_batch_then_one_token_at_a_time_until_end_of_generation()
    {
        var session = new ScriptedSession(256, "Hello world");
        var (chunks, result) = await Collect(Generator(session).GenerateAsync(Prompt("Say hi: "), Greedy(), new GenerationOptions()));

        Assert.Equal("Hello world", TextOf(chunks));
        Assert.Equal(FinishReason.Stop, result.FinishReason);
        Assert.Null(result.StopString);
        Assert.Equal(8, result.PromptTokens);
        Assert.Equal(12, result.CompletionTokens); // 11 bytes and the end-of-turn token
        Assert.Equal(Prompt("Hello world").Append(Eot), chunks.Where(c => c.TokenId is not null).Select(c => c.TokenId!.Value));
        // The prompt in one batch, then each generated token but the last (the end token is never evaluated).
        Assert.Equal([8, .. Enumerable.Repeat(1, 11)], session.BatchSizes);
        Assert.True(result.TimeToFirstToken > TimeSpan.Zero);
        Assert.True(result.GenerationTime >= TimeSpan.Zero);
    }

    [Fact]
    public async Task Max_tokens_ends_with_length()
    {
        var session = new ScriptedSession(256, "abcdefghij");
        var (chunks, result) = await Collect(Generator(session).GenerateAsync(Prompt("p"), Greedy(), new GenerationOptions { MaxTokens = 4 }));
        Assert.Equal("abcd", TextOf(chunks));
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(4, result.CompletionTokens);
        Assert.Equal(4, session.BatchSizes.Count); // prompt + 3 tokens; the 4th is not evaluated
    }

    [Fact]
    public async Task End_of_generation_can_be_ignored()
    {
        var session = new ScriptedSession(256, "ab");
        var (chunks, result) = await Collect(Generator(session).GenerateAsync(Prompt("p"), Greedy(),
            new GenerationOptions { MaxTokens = 5, StopAtEndOfGeneration = false }));
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal("abxx", TextOf(chunks)); // the end token decodes to nothing when not rendered
        Assert.Equal([.. Prompt("ab"), Eot, 'x', 'x'], chunks.Where(c => c.TokenId is not null).Select(c => c.TokenId!.Value));
    }

    [Fact]
    public async Task Stop_string_across_tokens_is_cut_exactly_and_not_emitted()
    {
        var session = new ScriptedSession(256, "Sure.\nUser: next question");
        var (chunks, result) = await Collect(Generator(session).GenerateAsync(Prompt("p"), Greedy(),
            new GenerationOptions { StopStrings = ["\nUser:", "never"] }));
        Assert.Equal("Sure.", TextOf(chunks));
        Assert.Equal(FinishReason.Stop, result.FinishReason);
        Assert.Equal("\nUser:", result.StopString);
        Assert.Equal(11, result.CompletionTokens); // generation stops at the token completing the stop string
        // "\n", "U", "s", "e", "r" were held back (they might start the stop), so nothing leaked early.
        Assert.DoesNotContain(chunks, c => c.Text.Contains('\n'));
    }

    [Fact]
    public async Task Held_back_text_is_released_when_it_stops_matching_or_the_stream_ends()
    {
        var session = new ScriptedSession(256, "a\nUsb\nU");
        var (chunks, result) = await Collect(Generator(session).GenerateAsync(Prompt("p"), Greedy(),
            new GenerationOptions { StopStrings = ["\nUser:"] }));
        Assert.Equal("a\nUsb\nU", TextOf(chunks));
        Assert.Equal(FinishReason.Stop, result.FinishReason); // ended by the end token, not the stop string
        Assert.Null(result.StopString);
        Assert.Equal("\nU", chunks[^1].Text); // the tail held back until the end
        var released = chunks.Select(c => c.Text).ToList();
        Assert.Equal("a", released[0]);
        Assert.Equal("\nUsb", released[4]); // released whole when "b" ruled the stop out
    }

    [Fact]
    public async Task Multibyte_characters_split_over_tokens_stream_whole()
    {
        var session = new ScriptedSession(256, "é😀");
        var (chunks, _) = await Collect(Generator(session).GenerateAsync(Prompt("p"), Greedy(), new GenerationOptions()));
        Assert.Equal(["", "é", "", "", "", "😀", "", ""], chunks.Select(c => c.Text));
    }

    [Fact]
    public async Task Cancellation_is_honoured_between_tokens()
    {
        var session = new ScriptedSession(256, "abcdefghijklmnop", endWithEot: false);
        using var cts = new CancellationTokenSource();
        var (chunks, result) = await Collect(
            Generator(session).GenerateAsync(Prompt("p"), Greedy(), new GenerationOptions { MaxTokens = 100 }, cts.Token),
            (_, n) => { if (n == 3) cts.Cancel(); });
        Assert.Equal(FinishReason.Cancelled, result.FinishReason);
        Assert.Equal("abc", TextOf(chunks));
        Assert.Equal(3, result.CompletionTokens);
        Assert.Equal(3, session.BatchSizes.Count); // prompt, a, b: nothing evaluated after the cancel
    }

    [Fact]
    public async Task Cancelled_before_the_start_evaluates_nothing()
    {
        var session = new ScriptedSession(256, "abc");
        var (chunks, result) = await Collect(Generator(session).GenerateAsync(Prompt("p"), Greedy(), new GenerationOptions(), new CancellationToken(true)));
        Assert.Single(chunks);
        Assert.Equal(FinishReason.Cancelled, result.FinishReason);
        Assert.Equal(0, result.PromptTokens);
        Assert.Equal(0, result.CompletionTokens);
        Assert.Empty(session.BatchSizes);
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_refused_before_evaluating()
    {
        var session = new ScriptedSession(16, "abc");
        var e = Assert.Throws<ContextOverflowException>(() => Generator(session).GenerateAsync(Prompt(new string('p', 17)), Greedy(), new GenerationOptions()));
        Assert.Equal("the prompt is 17 tokens, but the context holds 16", e.Message);
        Assert.Empty(session.BatchSizes);

        session.Evaluate(Prompt("0123456789"), new float[session.VocabSize]);
        e = Assert.Throws<ContextOverflowException>(() => Generator(session).GenerateAsync(Prompt("0123456"), Greedy(), new GenerationOptions()));
        Assert.Contains("already has 10 in use", e.Message);
    }

    [Fact]
    public async Task Reaching_the_end_of_the_context_ends_with_length()
    {
        var session = new ScriptedSession(8, "abcdefghijk", endWithEot: false);
        var (chunks, result) = await Collect(Generator(session).GenerateAsync(Prompt("pppp"), Greedy(), new GenerationOptions { MaxTokens = 100 }));
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(5, result.CompletionTokens); // 4 evaluated to fill the context, the 5th sampled from the last logits
        Assert.Equal("abcde", TextOf(chunks));
        Assert.Equal(8, session.Position);
    }

    [Fact]
    public void Bad_arguments_are_refused_up_front()
    {
        var session = new ScriptedSession(64, "abc");
        var generator = Generator(session);
        Assert.Throws<ArgumentException>(() => generator.GenerateAsync(Array.Empty<int>(), Greedy(), new GenerationOptions()));
        Assert.Throws<ArgumentException>(() => generator.GenerateAsync(Prompt("p"), Greedy(), new GenerationOptions { MaxTokens = 0 }));
        Assert.Throws<ArgumentException>(() => generator.GenerateAsync(new[] { 100_000 }, Greedy(), new GenerationOptions()));
        Assert.Throws<ArgumentException>(() => generator.GenerateAsync(Prompt("p"), new Sampler(10, SamplingOptions.Greedy), new GenerationOptions()));
        Assert.Empty(session.BatchSizes);
    }

    [Fact]
    public async Task Same_seed_generates_the_same_tokens()
    {
        // A forward pass with a spread-out distribution that depends on the history.
        async Task<int[]> Run(ulong seed)
        {
            var session = new SpreadSession();
            var sampler = new Sampler(session.VocabSize, new SamplingOptions { Seed = seed, Temperature = 1.2f, TopK = 0, TopP = 1, MinP = 0 });
            var (chunks, _) = await Collect(new TextGenerator(session, Tokenizer).GenerateAsync(Prompt("p"), sampler,
                new GenerationOptions { MaxTokens = 40, StopAtEndOfGeneration = false }));
            return chunks.Where(c => c.TokenId is not null).Select(c => c.TokenId!.Value).ToArray();
        }
        Assert.Equal(await Run(11), await Run(11));
        Assert.NotEqual(await Run(11), await Run(12));
    }

    /// <summary>Logits spread over the ASCII letters, shifted by the last token.</summary>
    private sealed class SpreadSession : IInferenceSession
    {
        private int _last, _position;
        public int VocabSize => Tokenizer.Vocabulary.Count;
        public int ContextLength => 512;
        public int Position => _position;

        public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits)
        {
            _position += tokens.Length;
            _last = tokens[^1];
            logits.Fill(float.NegativeInfinity);
            for (int c = 'a'; c <= 'z'; c++) logits[c] = ((c * 7 + _last) % 26) / 8f;
        }

        public void Rewind(int position) => _position = position;
        public void Dispose() { }
    }

    [Fact]
    public async Task Text_prompt_is_tokenized_with_special_tokens_parsed()
    {
        var session = new ScriptedSession(64, "ok");
        var (chunks, result) = await Collect(Generator(session).GenerateAsync("hello<|eot|>", Greedy(), new GenerationOptions()));
        Assert.Equal("ok", TextOf(chunks));
        Assert.Equal(2, result.PromptTokens); // "hello" and <|eot|>
        Assert.Equal([256 + 3, Eot], session.Tokens.Take(2));
    }
}

using System.Collections.Concurrent;
using Promptd.Inference.Tokenization;
using Promptd.TestSupport;

namespace Promptd.Inference.Tests;

/// <summary>
/// llama.cpp's tokenizer test vectors (fixtures/vocab): every string of every vocabulary with
/// .inp/.out files must tokenize to exactly llama.cpp's ids (no BOS/EOS, special tokens not
/// parsed) and decode back to the input.
/// </summary>
public class TokenizerVocabFixtureTests
{
    private const string Separator = "\n__ggml_vocab_test__\n";
    private static readonly ConcurrentDictionary<string, Tokenizer> Tokenizers = new();
    private static readonly ConcurrentDictionary<string, (string[] Inputs, int[][] Expected)> Cases = new();

    /// <summary>The vocabularies with test vectors, and how many strings each has.</summary>
    public static TheoryData<string, int> AllCases()
    {
        var data = new TheoryData<string, int>();
        if (!Fixtures.Available) return data;
        foreach (var inp in Directory.GetFiles(Fixtures.Path("vocab"), "ggml-vocab-*.gguf.inp").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(inp)["ggml-vocab-".Length..^".gguf.inp".Length];
            for (int i = 0; i < Load(name).Inputs.Length; i++) data.Add(name, i);
        }
        return data;
    }

    private static Tokenizer TokenizerFor(string name) =>
        Tokenizers.GetOrAdd(name, n => TokenizerTestVocabularies.FromFixture("vocab", $"ggml-vocab-{n}.gguf"));

    private static (string[] Inputs, int[][] Expected) Load(string name) =>
        Cases.GetOrAdd(name, n =>
        {
            string raw = File.ReadAllText(Fixtures.Path("vocab", $"ggml-vocab-{n}.gguf.inp"), new System.Text.UTF8Encoding(false));
            var inputs = raw.Split(Separator);
            Assert.Equal("", inputs[^1]); // every string is followed by the separator
            inputs = inputs[..^1];
            var lines = File.ReadAllLines(Fixtures.Path("vocab", $"ggml-vocab-{n}.gguf.out"));
            Assert.Equal(inputs.Length, lines.Length);
            var expected = Array.ConvertAll(lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray());
            return (inputs, expected);
        });

    [FixtureFact]
    public void Every_vocabulary_with_test_vectors_has_46_cases()
    {
        var names = AllCases().Select(row => (string)row[0]).Distinct().ToArray();
        Assert.Equal(["deepseek-llm", "gpt-2", "llama-spm", "mpt", "phi-3", "refact", "starcoder"], names);
        foreach (var name in names) Assert.Equal(46, Load(name).Inputs.Length);
    }

    [FixtureTheory]
    [MemberData(nameof(AllCases))]
    public void Tokenizes_to_llama_cpp_ids(string vocab, int index)
    {
        var tokenizer = TokenizerFor(vocab);
        var (inputs, expected) = Load(vocab);
        var actual = tokenizer.Encode(inputs[index], addSpecial: false);
        Assert.True(expected[index].SequenceEqual(actual),
            $"input {Show(inputs[index])}\nexpected {string.Join(' ', expected[index])}\nactual   {string.Join(' ', actual)}\n"
            + $"pieces   {string.Join('|', actual.Select(id => Show(tokenizer.Vocabulary.GetText(id))))}");
    }

    /// <summary>
    /// Decoding is lossless except for the documented rules: SentencePiece adds a space before the
    /// text and removes it again (exact round trip), and BPE families with clean_up_tokenization_spaces
    /// drop the spaces before ?!., — so for those the exact round trip holds with the cleanup off,
    /// and with it on the result equals the cleanup applied to the input.
    /// </summary>
    [FixtureTheory]
    [MemberData(nameof(AllCases))]
    public void Decodes_back_to_the_input(string vocab, int index)
    {
        var tokenizer = TokenizerFor(vocab);
        string input = Load(vocab).Inputs[index];
        var ids = Load(vocab).Expected[index];

        Assert.Equal(input, tokenizer.Decode(ids, new DecodeOptions(CleanSpaces: false)));
        string cleaned = tokenizer.Vocabulary.CleanSpaces ? ExpectedCleanup(input) : input;
        Assert.Equal(cleaned, tokenizer.Decode(ids));
    }

    /// <summary>The cleanup written out with plain string replacements (enough for these inputs).</summary>
    private static string ExpectedCleanup(string s)
    {
        foreach (var p in new[] { " ?", " !", " .", " ," }) s = s.Replace(p, p[1..]);
        foreach (var p in new[] { " 's", " 'm", " 're", " 've" }) s = s.Replace(p, p[1..]);
        return s;
    }

    private static string Show(string s) =>
        "'" + s.Replace("\n", "\\n").Replace("\t", "\\t").Replace("\r", "\\r") + "'";
}

using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tokenization;

/// <summary>
/// A model's vocabulary as its GGUF metadata describes it (<c>tokenizer.ggml.*</c>): the token
/// texts, scores and types, the special token ids and the rules for adding them, read the way
/// llama.cpp's vocabulary loader reads them, converter quirks included. Immutable and thread-safe.
/// </summary>
public sealed class Vocabulary
{
    private readonly string[] _texts;
    private readonly float[] _scores;
    private readonly TokenAttributes[] _attributes;
    private readonly Dictionary<string, int> _idByText;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _idBySpan;
    private readonly bool[] _endOfGeneration;

    public VocabularyKind Kind { get; }
    public int Count => _texts.Length;

    /// <summary><c>general.name</c>, or null.</summary>
    public string? ModelName { get; }

    /// <summary>The byte-level BPE pre-tokenizer (null for SentencePiece vocabularies).</summary>
    public PreTokenizer? PreTokenizer { get; }

    /// <summary>BPE merge rules "left right", highest priority first (empty for SentencePiece).</summary>
    public IReadOnlyList<string> Merges { get; }

    public int? BosId { get; }
    public int? EosId { get; }
    /// <summary>End of turn (e.g. &lt;|eot_id|&gt;, &lt;|im_end|&gt;), from metadata or recognized by its text.</summary>
    public int? EotId { get; }
    public int? EomId { get; }
    public int? UnknownId { get; }
    public int? PaddingId { get; }
    public int? SeparatorId { get; }

    /// <summary>Whether encoding with special tokens starts with BOS (<c>tokenizer.ggml.add_bos_token</c>).</summary>
    public bool AddBos { get; }
    /// <summary>Whether encoding with special tokens ends with EOS (<c>tokenizer.ggml.add_eos_token</c>).</summary>
    public bool AddEos { get; }
    /// <summary>SentencePiece: text starts with an implied space ("▁Hello"); decoding drops it again.</summary>
    public bool AddSpacePrefix { get; }
    /// <summary>Decoding removes the space before ?!., and some apostrophes (clean_up_tokenization_spaces).</summary>
    public bool CleanSpaces { get; }

    /// <summary>The Jinja chat template the model ships (<c>tokenizer.chat_template</c>), or null.</summary>
    public string? ChatTemplate { get; }

    /// <summary>Things the loader tolerated or guessed (bad ids, unknown pre-tokenizer…), for logs.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Control, user-defined and unknown tokens, longest text first: matched before tokenizing.</summary>
    internal int[] SpecialTokensLongestFirst { get; }

    private Vocabulary(VocabularyData d)
    {
        Kind = d.Kind;
        ModelName = d.ModelName;
        _texts = d.Texts;
        _scores = d.Scores;
        _attributes = d.Attributes;
        _idByText = d.IdByText;
        _idBySpan = _idByText.GetAlternateLookup<ReadOnlySpan<char>>();
        PreTokenizer = d.PreTokenizer;
        Merges = d.Merges;
        BosId = d.Bos;
        EosId = d.Eos;
        EotId = d.Eot;
        EomId = d.Eom;
        UnknownId = d.Unknown;
        PaddingId = d.Padding;
        SeparatorId = d.Separator;
        AddBos = d.AddBos;
        AddEos = d.AddEos;
        AddSpacePrefix = d.AddSpacePrefix;
        CleanSpaces = d.CleanSpaces;
        ChatTemplate = d.ChatTemplate;
        Warnings = d.Warnings;
        _endOfGeneration = d.EndOfGeneration;
        SpecialTokensLongestFirst = d.SpecialTokens;
    }

    public static Vocabulary FromGguf(GgufFile file) => FromMetadata(file.Metadata);

    /// <summary>Reads the vocabulary; a missing or malformed required key is an <see cref="InvalidDataException"/>.</summary>
    public static Vocabulary FromMetadata(GgufMetadata metadata) => new(VocabularyLoader.Load(metadata));

    public string GetText(int id) => _texts[CheckId(id)];
    public float GetScore(int id) => _scores[CheckId(id)];
    public TokenAttributes GetAttributes(int id) => _attributes[CheckId(id)];

    /// <summary>Whether generation should end at this token (EOS, EOT, EOM and their kin).</summary>
    public bool IsEndOfGeneration(int id) => (uint)id < (uint)_endOfGeneration.Length && _endOfGeneration[id];

    public bool TryGetId(string text, out int id) => _idByText.TryGetValue(text, out id);
    public bool TryGetId(ReadOnlySpan<char> text, out int id) => _idBySpan.TryGetValue(text, out id);

    private int CheckId(int id) =>
        (uint)id < (uint)_texts.Length ? id : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside the vocabulary (0..{_texts.Length - 1})");

    /// <summary>Everything the loader works out, handed to the constructor in one piece.</summary>
    internal sealed class VocabularyData
    {
        public VocabularyKind Kind;
        public string? ModelName;
        public string[] Texts = [];
        public float[] Scores = [];
        public TokenAttributes[] Attributes = [];
        public Dictionary<string, int> IdByText = new(StringComparer.Ordinal);
        public PreTokenizer? PreTokenizer;
        public string[] Merges = [];
        public int? Bos, Eos, Eot, Eom, Unknown, Padding, Separator;
        public bool AddBos, AddEos, AddSpacePrefix, CleanSpaces;
        public string? ChatTemplate;
        public List<string> Warnings = [];
        public bool[] EndOfGeneration = [];
        public int[] SpecialTokens = [];
    }
}

namespace Promptd.Inference.Tokenization;

/// <summary>
/// Hugging Face's clean_up_tokenization_spaces, as llama.cpp's detokenizer applies it to BPE
/// vocabularies of the families that enable it: drops the space in " ?", " !", " .", " ,",
/// turns " ' " into "'", and joins " 's", " 'm", " 're", " 've". It makes decoding lossy for text
/// that really had those spaces, which is why it can be turned off.
/// </summary>
internal static class SpaceCleanup
{
    /// <summary>Cleans <paramref name="text"/> in place and returns its new length.</summary>
    public static int Apply(Span<byte> text)
    {
        int total = DropSpaceBeforePunctuation(text);
        total = JoinLoneApostrophe(text[..total]);
        return JoinContractions(text[..total]);
    }

    private static int DropSpaceBeforePunctuation(Span<byte> text)
    {
        if (text.Length == 0) return 0;
        int total = 1;
        for (int i = 1; i < text.Length; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x is (byte)'?' or (byte)'!' or (byte)'.' or (byte)',') total--;
            text[total++] = x;
        }
        return total;
    }

    private static int JoinLoneApostrophe(Span<byte> text)
    {
        if (text.Length == 0) return 0;
        int total = 1;
        for (int i = 1; i < text.Length; i++)
        {
            byte x = text[i];
            if (x == '\'' && i + 1 < text.Length && text[i - 1] == ' ' && text[i + 1] == ' ')
            {
                total--;       // the space before
                text[++i] = 0; // skip the space after (and, as in llama.cpp, it no longer counts as a space)
            }
            text[total++] = x;
        }
        return total;
    }

    private static int JoinContractions(Span<byte> text)
    {
        if (text.Length == 0) return 0;
        int total = 1;
        for (int i = 1; i < text.Length; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < text.Length)
            {
                byte x1 = text[i + 1];
                bool join = x1 is (byte)'s' or (byte)'m'
                    || (i + 2 < text.Length && text[i + 2] == 'e' && x1 is (byte)'r' or (byte)'v');
                if (join) total--;
            }
            text[total++] = x;
        }
        return total;
    }
}

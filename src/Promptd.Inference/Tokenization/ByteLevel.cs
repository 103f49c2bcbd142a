namespace Promptd.Inference.Tokenization;

/// <summary>
/// GPT-2's byte-level alphabet: every byte has a printable stand-in character, so that BPE
/// vocabularies can be stored as text. Printable Latin-1 bytes stand for themselves; the others
/// (controls, space, 0x7F–0xA0, 0xAD) take the code points from U+0100 on, in byte order
/// (space is 'Ġ', newline 'Ċ').
/// </summary>
internal static class ByteLevel
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly short[] CharToByte = BuildCharToByte();

    public static char Encode(byte b) => ByteToChar[b];

    /// <summary>The byte a stand-in character means, or -1 when it is not one.</summary>
    public static int Decode(char c) => c < CharToByte.Length ? CharToByte[c] : -1;

    private static bool StandsForItself(int b) => b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) map[b] = StandsForItself(b) ? (char)b : (char)next++;
        return map;
    }

    private static short[] BuildCharToByte()
    {
        var map = new short[256 + 68];
        Array.Fill(map, (short)-1);
        for (int b = 0; b < 256; b++) map[ByteToChar[b]] = (short)b;
        return map;
    }
}

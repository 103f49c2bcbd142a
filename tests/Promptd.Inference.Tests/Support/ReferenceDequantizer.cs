using System.Buffers.Binary;
using Promptd.Inference.Gguf;

namespace Promptd.Inference.Tests.Support;

/// <summary>
/// Dequantization of one block, element by element, written directly from the struct definitions
/// in llama.cpp's ggml-common.h and the loops of ggml-quants.c (including its uint32 tricks for
/// unpacking 6-bit scales), independently of the engine's decoders.
/// </summary>
public static class ReferenceDequantizer
{
    public static float[] Block(GgmlType type, byte[] b)
    {
        float H(int at) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at)));
        switch (type)
        {
            case GgmlType.Q4_0: return Make(32, e => ((e < 16 ? b[2 + e] & 15 : b[2 + e - 16] >> 4) - 8) * H(0));
            case GgmlType.Q4_1: return Make(32, e => (e < 16 ? b[4 + e] & 15 : b[4 + e - 16] >> 4) * H(0) + H(2));
            case GgmlType.Q5_0:
            {
                uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(2));
                return Make(32, e => (((e < 16 ? b[6 + e] & 15 : b[6 + e - 16] >> 4) | (int)((qh >> e) & 1) << 4) - 16) * H(0));
            }
            case GgmlType.Q5_1:
            {
                uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4));
                return Make(32, e => ((e < 16 ? b[8 + e] & 15 : b[8 + e - 16] >> 4) | (int)((qh >> e) & 1) << 4) * H(0) + H(2));
            }
            case GgmlType.Q8_0: return Make(32, e => (sbyte)b[2 + e] * H(0));
            case GgmlType.Q8_1: return Make(32, e => (sbyte)b[4 + e] * H(0));
            case GgmlType.Q8_K: return Make(256, e => BinaryPrimitives.ReadSingleLittleEndian(b) * (sbyte)b[4 + e]);
            case GgmlType.Q2_K:
                return Make(256, e =>
                {
                    int n = e / 128, j = e % 128 / 32, l = e % 32;
                    int q = (b[16 + 32 * n + l] >> (2 * j)) & 3;
                    byte sc = b[e / 16];
                    return H(80) * (sc & 0xF) * q - H(82) * (sc >> 4);
                });
            case GgmlType.Q3_K:
            {
                var scales = Q3KScales(b.AsSpan(96, 12));
                return Make(256, e =>
                {
                    int n = e / 128, j = e % 128 / 32, l = e % 32;
                    int q = (b[32 + 32 * n + l] >> (2 * j)) & 3;
                    bool high = (b[l] & (1 << (4 * n + j))) != 0;
                    return H(108) * (scales[e / 16] - 32) * (q - (high ? 0 : 4));
                });
            }
            case GgmlType.Q4_K:
            case GgmlType.Q5_K:
            {
                var (sc, mins) = K4ScalesAndMins(b.AsSpan(4, 12));
                bool five = type == GgmlType.Q5_K;
                int qsAt = five ? 48 : 16;
                return Make(256, e =>
                {
                    int chunk = e / 64, l = e % 32;
                    byte packed = b[qsAt + 32 * chunk + l];
                    int q = e % 64 < 32 ? packed & 0xF : packed >> 4;
                    if (five && (b[16 + l] & (1 << (e / 32))) != 0) q += 16;
                    return H(0) * sc[e / 32] * q - H(2) * mins[e / 32];
                });
            }
            case GgmlType.Q6_K:
                return Make(256, e =>
                {
                    int n = e / 128, k = e % 128 / 32, l = e % 32;
                    byte ql = b[64 * n + l + (k % 2) * 32];
                    int low = k < 2 ? ql & 0xF : ql >> 4;
                    int high = (b[128 + 32 * n + l] >> (2 * k)) & 3;
                    sbyte scale = (sbyte)b[192 + 8 * n + l / 16 + 2 * k];
                    return H(208) * scale * ((low | high << 4) - 32);
                });
            default: throw new ArgumentException($"no reference for {type}");
        }
    }

    private static float[] Make(int n, Func<int, float> value)
    {
        var v = new float[n];
        for (int e = 0; e < n; e++) v[e] = value(e);
        return v;
    }

    /// <summary>ggml's dequantize_row_q3_K: the 12 bytes as three uint32, rearranged into 16 six-bit scales.</summary>
    private static sbyte[] Q3KScales(ReadOnlySpan<byte> s)
    {
        const uint kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
        var aux = new uint[4];
        for (int i = 0; i < 3; i++) aux[i] = BinaryPrimitives.ReadUInt32LittleEndian(s[(4 * i)..]);
        uint tmp = aux[2];
        aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
        aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
        aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
        aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
        var result = new sbyte[16];
        for (int i = 0; i < 16; i++) result[i] = (sbyte)(aux[i / 4] >> (8 * (i % 4)));
        return result;
    }

    /// <summary>ggml's ggml_vec_dot_q4_K_q8_K: the 12 bytes as uint32, rearranged into 8 scales and 8 mins.</summary>
    private static (byte[] Scales, byte[] Mins) K4ScalesAndMins(ReadOnlySpan<byte> s)
    {
        const uint kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
        var utmp = new uint[4];
        for (int i = 0; i < 3; i++) utmp[i] = BinaryPrimitives.ReadUInt32LittleEndian(s[(4 * i)..]);
        utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
        uint uaux = utmp[1] & kmask1;
        utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
        utmp[2] = uaux;
        utmp[0] &= kmask1;
        byte Byte(int i) => (byte)(utmp[i / 4] >> (8 * (i % 4)));
        var scales = new byte[8];
        var mins = new byte[8];
        for (int i = 0; i < 8; i++)
        {
            scales[i] = Byte(i);
            mins[i] = Byte(8 + i);
        }
        return (scales, mins);
    }
}

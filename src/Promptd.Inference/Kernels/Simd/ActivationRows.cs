using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Promptd.Inference.Gguf;
using Promptd.Inference.Tensors;

namespace Promptd.Inference.Kernels.Simd;

/// <summary>
/// How the SIMD kernels hold converted activations, one row per token. For the 8-bit formats a row
/// is the ggml bytes themselves — exactly what <see cref="TensorType.QuantizeActivationRow"/>
/// writes — followed by per-block extras the kernels would otherwise recompute for every weight
/// row: the block scale as a float and, for Q8_0, the negated sum of the block's levels (for weights
/// stored with an offset: a group sum starts from it, shifted by the offset's power of two), for Q8_1
/// its stored sum as a float. For the float formats a row is floats already rounded to F16 or BF16,
/// so the kernels multiply without converting.
/// </summary>
internal readonly struct ActivationRows
{
    public ActivationRows(TensorType type, int columns)
    {
        Type = type;
        Columns = columns;
        Blocks = columns / type.BlockSize;
        bool floats = type.BlockSize == 1;
        ExtrasOffset = floats ? 0 : Align(type.RowBytes(columns));
        int extras = type.Id is GgmlType.Q8_0 or GgmlType.Q8_1 ? 8 * Blocks : 0;
        Stride = floats ? Align(4 * columns) : ExtrasOffset + Align(extras);
    }

    public TensorType Type { get; }
    public int Columns { get; }
    public int Blocks { get; }

    /// <summary>Bytes from one token's row to the next (a multiple of 64).</summary>
    public int Stride { get; }

    /// <summary>Where the extras start in a row: block scales (float[Blocks]), then negated level sums (int[Blocks], Q8_0) or stored sums (float[Blocks], Q8_1).</summary>
    public int ExtrasOffset { get; }

    private static int Align(int bytes) => (bytes + 63) & ~63;

    /// <summary>Converts one token's activations into row <paramref name="row"/> (Stride bytes); <paramref name="wide"/> allows 512-bit vectors.</summary>
    public unsafe void Convert(ReadOnlySpan<float> x, Span<byte> row, bool wide)
    {
        fixed (float* source = x)
        fixed (byte* destination = row)
        {
            switch (Type.Id)
            {
                case GgmlType.Q8_0: QuantizeQ8(source, destination, withSum: false); break;
                case GgmlType.Q8_1: QuantizeQ8(source, destination, withSum: true); break;
                case GgmlType.Q8_K: QuantizeQ8K(source, destination); break;
                case GgmlType.F16: RoundFloats(source, (float*)destination, toHalf: true, wide); break;
                case GgmlType.BF16: RoundFloats(source, (float*)destination, toHalf: false, wide); break;
                case GgmlType.F32: x[..Columns].CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(row)); break;
                default: throw new NotSupportedException($"{Type.Name} is not an activation format");
            }
        }
    }

    /// <summary>
    /// ggml-cpu's x86 quantizer of Q8_0 / Q8_1 activations: per 32 values, d = amax/127 (stored
    /// F16), levels round(x·127/amax) to nearest even; Q8_1 also stores F16(d·Σlevels).
    /// </summary>
    private unsafe void QuantizeQ8(float* x, byte* row, bool withSum)
    {
        int blockBytes = withSum ? Q8_1Type.BlockLength : Q8_0Type.BlockLength;
        int quantsAt = withSum ? 4 : 2;
        float* scales = (float*)(row + ExtrasOffset);
        int* sums = (int*)(scales + Blocks);
        for (int b = 0; b < Blocks; b++)
        {
            float* v = x + 32 * b;
            var v0 = Vector256.Load(v);
            var v1 = Vector256.Load(v + 8);
            var v2 = Vector256.Load(v + 16);
            var v3 = Vector256.Load(v + 24);
            var amaxVector = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
            float amax = VectorMath.HorizontalMax(amaxVector);
            float d = amax / 127f;
            var id = Vector256.Create(amax != 0 ? 127f / amax : 0f);
            // cvtps2dq rounds to nearest even, like MathF.Round.
            var q0 = Avx.ConvertToVector256Int32(v0 * id);
            var q1 = Avx.ConvertToVector256Int32(v1 * id);
            var q2 = Avx.ConvertToVector256Int32(v2 * id);
            var q3 = Avx.ConvertToVector256Int32(v3 * id);
            byte* block = row + b * blockBytes;
            StoreLevels(q0, q1, q2, q3, block + quantsAt);
            int sum = Vector256.Sum(q0 + q1 + q2 + q3);
            ushort dBits = HalfFloat.FloatToF16(d);
            BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(block, 2), dBits);
            scales[b] = HalfFloat.F16ToFloat(dBits);
            if (withSum)
            {
                ushort sBits = HalfFloat.FloatToF16(sum * d);
                BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(block + 2, 2), sBits);
                ((float*)sums)[b] = HalfFloat.F16ToFloat(sBits);
            }
            else
            {
                sums[b] = -sum;
            }
        }
    }

    /// <summary>
    /// ggml's Q8_K quantizer: per 256 values, the value of largest magnitude (the first on ties) maps
    /// to −127; levels are rounded to nearest even and capped at 127; sums of each 16 levels follow.
    /// </summary>
    private unsafe void QuantizeQ8K(float* x, byte* row)
    {
        for (int b = 0; b < Blocks; b++)
        {
            float* v = x + 256 * b;
            byte* block = row + b * Q8_KType.BlockLength;
            var amaxVector = Vector256<float>.Zero;
            for (int i = 0; i < 256; i += 8) amaxVector = Vector256.Max(amaxVector, Vector256.Abs(Vector256.Load(v + i)));
            float amax = VectorMath.HorizontalMax(amaxVector);
            float max = 0;
            if (amax > 0)
            {
                var target = Vector256.Create(amax);
                for (int i = 0; i < 256; i += 8)
                {
                    uint hits = Vector256.Equals(Vector256.Abs(Vector256.Load(v + i)), target).ExtractMostSignificantBits();
                    if (hits != 0)
                    {
                        max = v[i + System.Numerics.BitOperations.TrailingZeroCount(hits)];
                        break;
                    }
                }
            }
            if (max == 0)
            {
                new Span<byte>(block, Q8_KType.BlockLength).Clear();
                continue;
            }
            float iscale = -127f / max;
            var scale = Vector256.Create(iscale);
            short* sums = (short*)(block + Q8_KType.SumsAt);
            for (int i = 0; i < 256; i += 32)
            {
                var q0 = Vector256.Min(Avx.ConvertToVector256Int32(Vector256.Load(v + i) * scale), Vector256.Create(127));
                var q1 = Vector256.Min(Avx.ConvertToVector256Int32(Vector256.Load(v + i + 8) * scale), Vector256.Create(127));
                var q2 = Vector256.Min(Avx.ConvertToVector256Int32(Vector256.Load(v + i + 16) * scale), Vector256.Create(127));
                var q3 = Vector256.Min(Avx.ConvertToVector256Int32(Vector256.Load(v + i + 24) * scale), Vector256.Create(127));
                StoreLevels(q0, q1, q2, q3, block + Q8_KType.QuantsAt + i);
                sums[i / 16] = (short)Vector256.Sum(q0 + q1);
                sums[i / 16 + 1] = (short)Vector256.Sum(q2 + q3);
            }
            *(float*)block = 1 / iscale;
        }
    }

    private unsafe void RoundFloats(float* x, float* row, bool toHalf, bool wide)
    {
        int i = 0;
        if (wide && Avx512F.IsSupported)
        {
            for (; i + 16 <= Columns; i += 16)
            {
                var v = Vector512.Load(x + i);
                (toHalf ? HalfVector.RoundToHalf(v) : HalfVector.RoundToBF16(v)).Store(row + i);
            }
        }
        for (; i + 8 <= Columns; i += 8)
        {
            var v = Vector256.Load(x + i);
            (toHalf ? HalfVector.RoundToHalf(v) : HalfVector.RoundToBF16(v)).Store(row + i);
        }
        for (; i < Columns; i++)
            row[i] = toHalf ? HalfFloat.RoundToF16(x[i]) : HalfFloat.BF16ToFloat(HalfFloat.FloatToBF16(x[i]));
    }

    /// <summary>32 levels (each in [−128, 127]) as bytes, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreLevels(Vector256<int> q0, Vector256<int> q1, Vector256<int> q2, Vector256<int> q3, byte* destination) =>
        Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).Store((sbyte*)destination);
}

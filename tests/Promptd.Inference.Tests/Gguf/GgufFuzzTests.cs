using System.Buffers.Binary;
using Promptd.Inference.Gguf;
using Promptd.Inference.Models;
using Promptd.Inference.Synthetic;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Gguf;

/// <summary>
/// Seeded random damage to a small valid model file: every outcome must be a clean load (then a
/// forward pass must run) or an InvalidDataException / NotSupportedException — never another
/// exception, a crash or a hang.
/// </summary>
public class GgufFuzzTests : IDisposable
{
    private const int Iterations = 3000;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] SmallModel()
    {
        var spec = new SyntheticModelSpec
        {
            EmbeddingLength = 32, HeadCount = 2, KvHeadCount = 1, FeedForwardLength = 32, LayerCount = 1,
            VocabSize = 260, ContextLength = 16, WeightType = GgmlType.Q8_0, TiedOutput = true,
        };
        return SyntheticModel.CreateWriter(spec).ToArray();
    }

    [Fact]
    public void Random_damage_gives_a_clean_error_or_a_working_model()
    {
        var valid = SmallModel();
        var outcomes = new Dictionary<string, int>();
        string path = _dir.File("fuzz.gguf");
        for (int i = 0; i < Iterations; i++)
        {
            var random = new Random(i);
            var bytes = Mutate(valid, random);
            File.WriteAllBytes(path, bytes);
            string outcome;
            try
            {
                using var model = TransformerModel.Load(path);
                using var session = model.CreateSession(new InferenceSessionOptions { ContextLength = 4 });
                var logits = new float[session.VocabSize];
                session.Evaluate([1, 2], logits);
                outcome = "loaded";
            }
            catch (InvalidDataException)
            {
                outcome = "invalid";
            }
            catch (NotSupportedException)
            {
                outcome = "unsupported";
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {i}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                return;
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        // The mutations must reach both outcomes, or the test is not exercising anything.
        Assert.True(outcomes.GetValueOrDefault("invalid") > Iterations / 10, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault("loaded") > Iterations / 20, string.Join(", ", outcomes));
    }

    /// <summary>One to four random damages: truncation, flipped bytes, or a field overwritten with an extreme value.</summary>
    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = (byte[])valid.Clone();
        int damages = random.Next(1, 5);
        for (int d = 0; d < damages; d++)
        {
            // Most structure is in the header and metadata: aim there more often than at weights.
            int at = random.Next(4) == 0 ? random.Next(bytes.Length) : random.Next(Math.Min(bytes.Length, 8192));
            switch (random.Next(5))
            {
                case 0:
                    bytes = bytes[..random.Next(bytes.Length)];
                    break;
                case 1:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 3 when at + 8 <= bytes.Length:
                    ulong[] extremes = [0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, ulong.MaxValue, 1UL << 32, 1UL << 62, (ulong)random.Next()];
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), extremes[random.Next(extremes.Length)]);
                    break;
                case 4 when at + 4 <= bytes.Length:
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)random.Next(-2, 40));
                    break;
            }
            if (bytes.Length == 0) break;
        }
        return bytes;
    }
}

using System.Buffers.Binary;
using System.Globalization;
using Promptd.Inference.Models;

namespace Promptd.Cli.Commands;

/// <summary>
/// <c>promptd eval-logits --model FILE --tokens 1,50,100 --out FILE.bin [--kv f32|f16]</c>: evaluates
/// the token ids in one batch and writes the logits of every position as float32 little-endian,
/// row-major [n_tokens × n_vocab] — the format of the fixtures' *.logits.bin files.
/// </summary>
public static class EvalLogitsCommand
{
    public const string Usage = "usage: promptd eval-logits --model FILE --tokens ID,ID,... --out FILE.bin [--kv f32|f16]";

    public static Task<int> RunAsync(string[] args)
    {
        var options = Parse(args);
        try
        {
            using var model = TransformerModel.Load(options.Model);
            int vocab = model.Config.VocabSize;
            foreach (int id in options.Tokens)
            {
                if (id >= vocab) throw new UsageException($"token id {id} is outside the vocabulary of {options.Model} (0..{vocab - 1})");
            }
            int n = options.Tokens.Length;
            using var session = model.CreateSession(new InferenceSessionOptions { KvCacheType = options.Kv, ContextLength = n, BatchSize = n });
            var logits = new float[(long)n * vocab];
            session.Evaluate(options.Tokens, logits);
            WriteFloats(options.Output, logits);
            return Task.FromResult(0);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or UnauthorizedAccessException)
        {
            // FileNotFoundException and DirectoryNotFoundException are IOExceptions; their messages name the path.
            Console.Error.WriteLine($"promptd eval-logits: {e.Message}");
            return Task.FromResult(1);
        }
    }

    private sealed record Options(string Model, int[] Tokens, string Output, KvCacheType Kv);

    private static Options Parse(string[] args)
    {
        string? model = null, tokens = null, output = null, kv = "f16";
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model": model = Value(); break;
                case "--tokens": tokens = Value(); break;
                case "--out": output = Value(); break;
                case "--kv": kv = Value(); break;
                default: throw new UsageException($"unknown option '{args[i]}'; {Usage}");
            }
        }
        if (model is null || tokens is null || output is null) throw new UsageException(Usage);
        return new Options(model, ArgumentParsing.TokenIds("--tokens", tokens), output, ArgumentParsing.KvCache(kv));
    }


    private static void WriteFloats(string path, float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        File.WriteAllBytes(path, bytes);
    }
}

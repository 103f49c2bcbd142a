using System.Text;
using Promptd.Inference.Gguf;
using Promptd.Inference.Tokenization;

namespace Promptd.Cli.Commands;

/// <summary>
/// <c>promptd tokenize --model FILE --text-file F [--special] [--no-bos]</c>: prints the token ids
/// of the file's text (UTF-8, read as is), space-separated on one line, as llama.cpp's tokenizer
/// would give them. BOS/EOS are added per the model unless --no-bos; --special turns special-token
/// texts such as "&lt;|im_start|&gt;" into their tokens.
/// </summary>
internal static class TokenizeCommand
{
    public const string Verb = "tokenize";
    public const string Summary = "print the token ids of a text (--model FILE --text-file F [--special] [--no-bos])";
    private const string Usage = "usage: promptd tokenize --model FILE --text-file F [--special] [--no-bos]";

    public static Task<int> RunAsync(string[] args)
    {
        string? model = null, textFile = null;
        bool parseSpecial = false, addSpecial = true;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--model": model = Value(args, ref i); break;
                case "--text-file": textFile = Value(args, ref i); break;
                case "--special": parseSpecial = true; break;
                case "--no-bos": addSpecial = false; break;
                case "-h" or "--help":
                    Console.WriteLine(Usage);
                    return Task.FromResult(0);
                default: throw new UsageException($"unexpected argument '{args[i]}' ({Usage})");
            }
        }
        if (model is null) throw new UsageException($"--model is required ({Usage})");
        if (textFile is null) throw new UsageException($"--text-file is required ({Usage})");

        try
        {
            // Raw bytes: no BOM stripping or newline translation, so the ids match llama.cpp's.
            string text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetString(File.ReadAllBytes(textFile));
            Tokenizer tokenizer;
            using (var file = GgufFile.Open(model)) tokenizer = Tokenizer.FromGguf(file);
            foreach (var warning in tokenizer.Warnings) Console.Error.WriteLine($"promptd tokenize: warning: {warning}");
            var ids = tokenizer.Encode(text, addSpecial, parseSpecial);
            Console.Out.WriteLine(string.Join(' ', ids));
            return Task.FromResult(0);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // FileNotFoundException is an IOException; GgufFile's messages name the file and the problem.
            Console.Error.WriteLine($"promptd tokenize: {e.Message}");
            return Task.FromResult(1);
        }
    }

    private static string Value(string[] args, ref int i)
    {
        if (i + 1 >= args.Length) throw new UsageException($"{args[i]} needs a value");
        return args[++i];
    }
}

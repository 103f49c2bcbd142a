using System.Diagnostics;
using Promptd.Core.Models;

namespace Promptd.Cli;

/// <summary>
/// Draws download progress: a bar redrawn in place on a terminal, or a plain line every few
/// seconds when the output goes to a file or a pipe. Reports arrive synchronously, in order.
/// </summary>
internal sealed class PullProgressPrinter(TextWriter output, bool terminal) : IProgress<PullProgress>
{
    /// <summary>Standard error is a terminal (the bar is redrawn in place) rather than a file or a pipe.</summary>
    public static bool ErrorIsTerminal() =>
        !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not "dumb";

    private static readonly TimeSpan TerminalInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(3);

    private readonly Lock _lock = new();
    private long _lastDraw;
    private bool _lineOpen;

    public void Report(PullProgress p)
    {
        lock (_lock)
        {
            switch (p.Stage)
            {
                case PullStage.Waiting:
                    EndLine();
                    output.WriteLine("waiting for another download of this model to finish...");
                    break;
                case PullStage.Downloading:
                    Downloading(p);
                    break;
                case PullStage.Verifying:
                    EndLine();
                    output.WriteLine("verifying the GGUF file...");
                    break;
            }
        }
    }

    private void Downloading(PullProgress p)
    {
        bool done = p.TotalBytes is { } total && p.BytesDone >= total;
        long now = Stopwatch.GetTimestamp();
        if (!done && _lastDraw != 0 && Stopwatch.GetElapsedTime(_lastDraw, now) < (terminal ? TerminalInterval : PlainInterval)) return;
        _lastDraw = now;
        string status = Describe(p);
        if (!terminal)
        {
            output.WriteLine("downloading: " + status);
            return;
        }
        int width = TerminalWidth();
        // The bar keeps one width while the status beside it grows (room for about 56 characters).
        string line = p.TotalBytes is { } t && t > 0 ? Bar(p.BytesDone, t, Math.Clamp(width - 60, 10, 40)) + " " + status : status;
        output.Write("\r" + (line.Length >= width ? line[..(width - 1)] : line.PadRight(width - 1)));
        _lineOpen = true;
    }

    private static string Describe(PullProgress p)
    {
        string rate = p.BytesPerSecond > 0 ? $"  {ByteSize.Format((long)p.BytesPerSecond)}/s" : "";
        if (p.TotalBytes is not { } total || total <= 0) return ByteSize.Format(p.BytesDone) + rate;
        string eta = p.BytesPerSecond > 0 && p.BytesDone < total
            ? "  ETA " + TimeSpan.FromSeconds(Math.Ceiling((total - p.BytesDone) / p.BytesPerSecond)).ToString(@"h\:mm\:ss")
            : "";
        return $"{100.0 * p.BytesDone / total,5:0.0}%  {ByteSize.Format(p.BytesDone)} / {ByteSize.Format(total)}{rate}{eta}";
    }

    private static string Bar(long done, long total, int cells)
    {
        int filled = (int)Math.Clamp(done * cells / total, 0, cells);
        return "[" + new string('#', filled) + new string('-', cells - filled) + "]";
    }

    private static int TerminalWidth()
    {
        try
        {
            return Console.WindowWidth is > 20 and var w ? w : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }

    /// <summary>Ends the bar's line so what follows starts on a fresh one.</summary>
    public void EndLine()
    {
        lock (_lock)
        {
            if (!_lineOpen) return;
            output.WriteLine();
            _lineOpen = false;
        }
    }
}

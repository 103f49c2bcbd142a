using System.Text;
using Promptd.Core.Moderation;

namespace Promptd.Core.Tests.Moderation;

/// <summary>Whatever a client or a model sends, classification answers; it never throws or hangs on shape alone.</summary>
public sealed class HostileInputTests
{
    public static TheoryData<string, string> Inputs => new()
    {
        { "a megabyte of one letter", new string('a', 1 << 20) },
        { "a long stretched word", "k" + new string('i', 5000) + "ll you" },
        { "lone surrogates", "\uD800kill\uDC00 you \uD83D" },
        { "control characters", "k\0i\u0001l\u0002l y\u0007ou" },
        { "combining marks piled up", "k" + string.Concat(Enumerable.Repeat("\u0301", 500)) + "ill you" },
        { "all single letters", string.Join(' ', Enumerable.Repeat("a b c d e f g", 2000)) },
        { "only punctuation", new string('!', 10000) + new string('*', 10000) + new string('$', 10000) },
        { "emoji soup", string.Concat(Enumerable.Repeat("🔪💀🔥👍🏽", 2000)) },
        { "random code points", RandomText(7, 50_000) },
        { "a threat repeated", string.Concat(Enumerable.Repeat("I will kill you ", 40_000)) },
        { "a benign context repeated", string.Concat(Enumerable.Repeat("kill the process ", 40_000)) },
        { "a spelled word repeated", string.Concat(Enumerable.Repeat("k i l l ", 40_000)) },
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task ClassifiesAnything(string what, string text)
    {
        _ = what;
        var verdict = LexiconClassifier.Default.Classify(text);
        Assert.All(verdict.Matches, m => Assert.InRange(m.End, m.Start + 1, text.Length));

        var moderator = new StreamingOutputModerator(LexiconClassifier.Default, ModerationPolicy.Default);
        var released = new StringBuilder();
        for (var i = 0; i < text.Length && !moderator.Stopped; i += 4096)
        {
            released.Append((await moderator.PushAsync(text.Substring(i, Math.Min(4096, text.Length - i)))).Release);
        }
        if (!moderator.Stopped) released.Append((await moderator.CompleteAsync()).Release);
        Assert.StartsWith(released.ToString(), text);
        Assert.Equal(verdict.IsFiltered(ModerationPolicy.Default), moderator.Stopped);
    }

    private static string RandomText(int seed, int length)
    {
        var random = new Random(seed);
        var s = new StringBuilder(length);
        while (s.Length < length)
        {
            var cp = random.Next(3) switch { 0 => random.Next(0x20, 0x7F), 1 => random.Next(0xA0, 0x2FFF), _ => random.Next(0x1D400, 0x1F9FF) };
            if (cp is >= 0xD800 and <= 0xDFFF) continue;
            s.Append(char.ConvertFromUtf32(cp));
        }
        return s.ToString();
    }
}

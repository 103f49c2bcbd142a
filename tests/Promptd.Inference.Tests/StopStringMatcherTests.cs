using Promptd.Inference.Generation;

namespace Promptd.Inference.Tests;

public class StopStringMatcherTests
{
    private static (List<string> Emitted, StopStringMatcher Matcher) Feed(string[] stops, params string[] pieces)
    {
        var matcher = new StopStringMatcher(stops);
        var emitted = pieces.Select(matcher.Append).ToList();
        return (emitted, matcher);
    }

    [Fact]
    public void Stop_split_over_pieces_is_cut_exactly()
    {
        var (emitted, m) = Feed(["</answer>"], "The answer is 4", "2.</an", "sw", "er> trailing");
        Assert.Equal(["The answer is 4", "2.", "", ""], emitted);
        Assert.True(m.Stopped);
        Assert.Equal("</answer>", m.MatchedStop);
        Assert.Equal("", m.Flush());
        Assert.Equal("", m.Append("more"));
    }

    [Fact]
    public void A_false_start_is_released_once_it_stops_matching()
    {
        var (emitted, m) = Feed(["STOP"], "abc S", "T", "x", "yz");
        Assert.Equal(["abc ", "", "STx", "yz"], emitted);
        Assert.False(m.Stopped);
    }

    [Fact]
    public void Held_text_is_flushed_at_the_end()
    {
        var (emitted, m) = Feed(["STOP"], "abc ST");
        Assert.Equal(["abc "], emitted);
        Assert.Equal("ST", m.Flush());
    }

    [Fact]
    public void The_earliest_of_several_stops_wins()
    {
        var (emitted, m) = Feed(["world", "lo w"], "hello world");
        Assert.Equal(["hel"], emitted);
        Assert.Equal("lo w", m.MatchedStop);
    }

    [Fact]
    public void Stop_at_the_very_start_emits_nothing()
    {
        var (emitted, m) = Feed(["\n\n"], "\n", "\nfoo");
        Assert.Equal(["", ""], emitted);
        Assert.True(m.Stopped);
    }

    [Fact]
    public void Overlapping_prefixes_hold_back_the_longest_possible_start()
    {
        // "aab" could still become "aaab"…: after "xaa" hold "aa"; then "a" → "aaa", still a prefix of "aaab".
        var (emitted, m) = Feed(["aaab"], "xaa", "a", "a", "b");
        Assert.Equal(["x", "", "a", ""], emitted);
        Assert.True(m.Stopped);
    }

    [Fact]
    public void No_stops_or_empty_stops_pass_text_through()
    {
        var (emitted, m) = Feed(["", ""], "a", "b");
        Assert.Equal(["a", "b"], emitted);
        Assert.False(m.Stopped);
    }

    [Fact]
    public void Characters_outside_the_BMP_are_never_split()
    {
        var (emitted, m) = Feed(["😀!"], "ok 😀", "?");
        Assert.Equal(["ok ", "😀?"], emitted);
        Assert.False(m.Stopped);
    }
}

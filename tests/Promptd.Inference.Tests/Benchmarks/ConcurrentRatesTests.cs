using System.Diagnostics;
using Promptd.Inference.Benchmarks;

namespace Promptd.Inference.Tests.Benchmarks;

public class ConcurrentRatesTests
{
    private static long Seconds(double s) => (long)(s * Stopwatch.Frequency);

    [Fact]
    public void Generation_is_counted_once_every_stream_generates()
    {
        // Stream 0 got its first token at 1 s and went on; stream 1's prompt was read meanwhile, its
        // first token came at 3 s. From then on both generate: tokens after 3 s, over 3 s → 5 s.
        long[][] arrivals =
        [
            [Seconds(1), Seconds(2), Seconds(3.5), Seconds(4), Seconds(4.5)],
            [Seconds(3), Seconds(4), Seconds(4.5), Seconds(5), 0],
        ];
        var (prompt, generation, tokens) = EngineBenchmark.ConcurrentRates(arrivals, [5, 4], start: 0, promptTokens: 30);

        Assert.Equal(2 * 30 / 3.0, prompt, 6);
        Assert.Equal(6 / 2.0, generation, 6); // 3.5, 4, 4.5 and 4, 4.5, 5
        Assert.Equal(9, tokens);
    }

    [Fact]
    public void One_stream_counts_every_token_after_its_first()
    {
        long[][] arrivals = [[Seconds(2), Seconds(2.5), Seconds(3), Seconds(4)]];
        var (prompt, generation, _) = EngineBenchmark.ConcurrentRates(arrivals, [4], start: Seconds(1), promptTokens: 64);

        Assert.Equal(64.0, prompt, 6);
        Assert.Equal(3 / 2.0, generation, 6);
    }

    [Fact]
    public void A_single_token_per_stream_has_no_generation_rate()
    {
        long[][] arrivals = [[Seconds(2)], [Seconds(2)]];
        var (_, generation, _) = EngineBenchmark.ConcurrentRates(arrivals, [1, 1], start: 0, promptTokens: 8);

        Assert.Equal(0, generation);
    }
}

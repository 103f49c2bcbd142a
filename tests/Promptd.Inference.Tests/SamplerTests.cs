using Promptd.Inference.Sampling;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests;

public class SamplerTests
{
    private static readonly SamplingOptions Plain = new() { Temperature = 1, TopK = 0, TopP = 1, MinP = 0, Seed = 7 };

    /// <summary>Logits whose softmax (at temperature 1) is exactly these probabilities.</summary>
    private static float[] LogitsOf(params double[] probabilities) => Array.ConvertAll(probabilities, p => (float)Math.Log(p));

    private static int[] Histogram(Sampler sampler, float[] logits, int draws)
    {
        var counts = new int[logits.Length];
        for (int i = 0; i < draws; i++) counts[sampler.Sample(logits)]++;
        return counts;
    }

    private static float[] RandomLogits(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray();
    }

    [Fact]
    public void Greedy_takes_the_highest_logit_and_the_lowest_id_on_ties()
    {
        var sampler = new Sampler(4, SamplingOptions.Greedy);
        Assert.Equal(1, sampler.Sample([1f, 3f, 3f, 2f]));
        Assert.Equal(3, sampler.Sample([float.NaN, 0f, -1f, 5f]));
        Assert.Equal(0, new Sampler(3, SamplingOptions.Greedy).Sample([float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity]));
    }

    [Fact]
    public void Temperature_near_zero_equals_greedy()
    {
        var logits = RandomLogits(50, 1);
        int argmax = Array.IndexOf(logits, logits.Max());
        var cold = new Sampler(50, Plain with { Temperature = 1e-4f });
        for (int i = 0; i < 2000; i++) Assert.Equal(argmax, cold.Sample(logits));
        Assert.Equal(argmax, new Sampler(50, Plain with { Temperature = 0 }).Sample(logits));
    }

    [Fact]
    public void Top_k_draws_only_from_the_k_most_likely()
    {
        var logits = RandomLogits(100, 2);
        var top5 = logits.Select((l, i) => (l, i)).OrderByDescending(x => x.l).Take(5).Select(x => x.i).Order().ToArray();
        var counts = Histogram(new Sampler(100, Plain with { TopK = 5, Temperature = 3 }), logits, 20_000);
        var drawn = counts.Select((c, i) => (c, i)).Where(x => x.c > 0).Select(x => x.i).ToArray();
        Assert.Equal(top5, drawn);
    }

    [Theory]
    [InlineData(0)] // nucleus found by popping a heap
    [InlineData(3)] // nucleus cut from the top-k list
    public void Top_p_draws_only_from_the_nucleus_in_proportion(int topK)
    {
        var logits = LogitsOf(0.05, 0.5, 0.15, 0.3);
        var counts = Histogram(new Sampler(4, Plain with { TopP = 0.75f, TopK = topK }), logits, 40_000);
        Assert.Equal(0, counts[0]);
        Assert.Equal(0, counts[2]);
        // Renormalized over the nucleus {1, 3}: 0.5/0.8 and 0.3/0.8.
        Assert.InRange(counts[1] / 40_000.0, 0.625 - 0.01, 0.625 + 0.01);

        var wider = Histogram(new Sampler(4, Plain with { TopP = 0.9f, TopK = topK }), logits, 10_000);
        Assert.Equal(0, wider[0]);
        Assert.True(wider[2] > 0);
    }

    [Fact]
    public void Min_p_drops_tokens_far_below_the_top_one()
    {
        var logits = LogitsOf(0.5, 0.3, 0.15, 0.05);
        var counts = Histogram(new Sampler(4, Plain with { MinP = 0.2f }), logits, 20_000); // keep p ≥ 0.1
        Assert.True(counts[0] > 0 && counts[1] > 0 && counts[2] > 0);
        Assert.Equal(0, counts[3]);
        counts = Histogram(new Sampler(4, Plain with { MinP = 0.5f }), logits, 20_000); // keep p ≥ 0.25
        Assert.Equal(0, counts[2] + counts[3]);
    }

    [Fact]
    public void Repeat_penalty_divides_positive_and_multiplies_negative_logits_of_recent_tokens()
    {
        var greedy = new Sampler(3, SamplingOptions.Greedy with { RepeatPenalty = 2f });
        float[] logits = [2f, 1.5f, -3f];
        Assert.Equal(0, greedy.Sample(logits));
        greedy.Accept(0);
        Assert.Equal(1, greedy.Sample(logits)); // 2 / 2 = 1 < 1.5
        greedy.Accept(1);
        Assert.Equal(0, greedy.Sample(logits)); // both halved: 1 > 0.75
        Assert.Equal([2f, 1.5f, -3f], logits); // the caller's logits are left alone

        var negative = new Sampler(2, SamplingOptions.Greedy with { RepeatPenalty = 2f });
        negative.Accept(0);
        Assert.Equal(1, negative.Sample([-1f, -1.5f])); // -1 * 2 = -2 < -1.5
    }

    [Fact]
    public void Frequency_and_presence_penalties_subtract_per_occurrence_and_once()
    {
        var frequency = new Sampler(2, SamplingOptions.Greedy with { FrequencyPenalty = 0.4f });
        float[] logits = [1f, 0f];
        frequency.Accept(0);
        frequency.Accept(0);
        Assert.Equal(0, frequency.Sample(logits)); // 1 - 0.8 = 0.2 > 0
        frequency.Accept(0);
        Assert.Equal(1, frequency.Sample(logits)); // 1 - 1.2 < 0

        var presence = new Sampler(2, SamplingOptions.Greedy with { PresencePenalty = 0.6f });
        for (int i = 0; i < 5; i++) presence.Accept(0);
        // Five occurrences, but presence counts once: 1 - 0.6 = 0.4.
        Assert.Equal(0, presence.Sample([1f, 0.3f]));
        Assert.Equal(1, presence.Sample([1f, 0.5f]));
    }

    [Fact]
    public void Penalties_only_look_at_the_recent_window()
    {
        var sampler = new Sampler(3, SamplingOptions.Greedy with { RepeatPenalty = 4f, PenaltyWindow = 2 });
        float[] logits = [2f, 1f, 0f];
        sampler.Accept(0);
        Assert.Equal(1, sampler.Sample(logits));
        sampler.Accept(2);
        sampler.Accept(2); // token 0 leaves the window
        Assert.Equal(0, sampler.Sample(logits));
    }

    [Fact]
    public void Penalties_shift_the_sampled_distribution_as_expected()
    {
        // Equal logits; token 0 penalized by presence ln(3): its probability drops from 1/2 to 1/4.
        var sampler = new Sampler(2, Plain with { PresencePenalty = (float)Math.Log(3) });
        sampler.Accept(0);
        var counts = Histogram(sampler, [0f, 0f], 40_000);
        Assert.InRange(counts[0] / 40_000.0, 0.25 - 0.01, 0.25 + 0.01);
    }

    [Fact]
    public void Same_seed_gives_the_same_sequence_and_different_seeds_differ()
    {
        var logits = RandomLogits(1000, 3);
        int[] Run(ulong seed)
        {
            var s = new Sampler(1000, new SamplingOptions { Seed = seed, TopK = 0, TopP = 1, MinP = 0, Temperature = 1.5f });
            return Enumerable.Range(0, 200).Select(_ => s.Sample(logits)).ToArray();
        }
        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));

        var sampler = new Sampler(1000, new SamplingOptions { Seed = 5 });
        var first = Enumerable.Range(0, 50).Select(_ => sampler.Sample(logits)).ToArray();
        sampler.Reset();
        Assert.Equal(first, Enumerable.Range(0, 50).Select(_ => sampler.Sample(logits)).ToArray());
        Assert.Equal(5UL, sampler.Seed);
    }

    [Fact]
    public void Without_a_seed_one_is_drawn_and_reported()
    {
        var a = new Sampler(10, new SamplingOptions());
        var b = new Sampler(10, new SamplingOptions());
        Assert.NotEqual(a.Seed, b.Seed);
    }

    [Fact]
    public void Temperature_sampling_follows_the_softmax_chi_square()
    {
        float[] logits = [0.3f, -1.2f, 2.0f, 0.9f, -0.4f, 1.4f];
        const float temperature = 0.7f;
        const int draws = 60_000;
        var counts = Histogram(new Sampler(6, Plain with { Temperature = temperature, Seed = 2024 }), logits, draws);

        double ChiSquare(double t)
        {
            var weights = logits.Select(l => Math.Exp(l / t)).ToArray();
            double sum = weights.Sum(), chi = 0;
            for (int i = 0; i < logits.Length; i++)
            {
                double expected = draws * weights[i] / sum;
                chi += (counts[i] - expected) * (counts[i] - expected) / expected;
            }
            return chi;
        }
        const double critical = 20.52; // chi-square, 5 degrees of freedom, p = 0.001
        Assert.True(ChiSquare(temperature) < critical, $"chi-square {ChiSquare(temperature):F2}");
        Assert.True(ChiSquare(1.0) > critical, "the test must be able to tell temperature 1 from 0.7");
    }

    [Fact]
    public void Xoshiro_matches_the_reference_sequence()
    {
        // SplitMix64-seeded xoshiro256** for seed 42, computed with the reference algorithm.
        var rng = new Xoshiro256StarStar(42);
        Assert.Equal(0x15780b2e0c2ec716UL, rng.NextUInt64());
        Assert.Equal(0x6104d9866d113a7eUL, rng.NextUInt64());
        Assert.Equal(0xae17533239e499a1UL, rng.NextUInt64());
    }

    [Fact]
    public void Sampling_a_token_allocates_nothing()
    {
        var logits = RandomLogits(32_000, 4);
        var sampler = new Sampler(32_000, new SamplingOptions { Seed = 1, RepeatPenalty = 1.1f, FrequencyPenalty = 0.1f });
        var nucleus = new Sampler(32_000, new SamplingOptions { Seed = 1, TopK = 0, TopP = 0.5f });
        for (int i = 0; i < 10; i++) sampler.Accept(sampler.Sample(logits)); // warm up
        nucleus.Sample(logits);
        Assert.Equal(0, Allocations.Steady(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                sampler.Accept(sampler.Sample(logits));
                nucleus.Sample(logits);
            }
        }));
    }

    [Fact]
    public void Bad_options_and_inputs_are_argument_errors()
    {
        Assert.Throws<ArgumentException>(() => new Sampler(10, new SamplingOptions { TopP = 1.5f }));
        Assert.Throws<ArgumentException>(() => new Sampler(10, new SamplingOptions { Temperature = float.NaN }));
        Assert.Throws<ArgumentException>(() => new Sampler(10, new SamplingOptions { TopK = -1 }));
        Assert.Throws<ArgumentException>(() => new Sampler(10, new SamplingOptions { RepeatPenalty = 0 }));
        var sampler = new Sampler(10, new SamplingOptions());
        Assert.Throws<ArgumentException>(() => sampler.Sample(new float[9]));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Accept(10));
    }
}

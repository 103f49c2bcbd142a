using Microsoft.Extensions.Configuration;

namespace Promptd.Server.Tests;

/// <summary>The documented settings of `promptd serve` (docs/api.md, "Configuration") reach the server's options.</summary>
public sealed class ConfigurationTests
{
    [Fact]
    public void Command_line_settings_map_to_options()
    {
        var c = new ConfigurationBuilder().AddCommandLine(
        [
            "--Scheduler:DefaultConcurrency=3", "--Scheduler:Concurrency:promptd/echo=16", "--Scheduler:LeaseSeconds=2.5",
            "--Scheduler:BackoffBaseMs=250", "--Scheduler:BackoffMaxSeconds=9", "--Scheduler:AttemptTimeoutSeconds=42",
            "--PromptSvc:SyncTimeoutSeconds=7", "--Sse:HeartbeatSeconds=4", "--Http:MaxBodyBytes=2048", "--Storage:Synchronous=normal",
            "--Models:Default=promptd/echo", "--Testing:ScriptedEngines=true", "--Models:MaxSequences=7",
        ]).Build();
        var o = PromptdServerOptions.FromConfiguration(c, "/data", "http://127.0.0.1:1", TextWriter.Null);
        Assert.Equal(3, o.Scheduler.DefaultConcurrency);
        Assert.Equal(16, o.Scheduler.ConcurrencyFor("promptd/echo"));
        Assert.Equal(3, o.Scheduler.ConcurrencyFor("other"));
        Assert.Equal(TimeSpan.FromSeconds(2.5), o.Scheduler.LeaseDuration);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.Scheduler.BackoffBase);
        Assert.Equal(TimeSpan.FromSeconds(9), o.Scheduler.BackoffMax);
        Assert.Equal(TimeSpan.FromSeconds(42), o.Scheduler.AttemptTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7), o.SyncTimeout);
        Assert.Equal(TimeSpan.FromSeconds(4), o.Heartbeat);
        Assert.Equal(2048, o.MaxRequestBodyBytes);
        Assert.False(o.SynchronousFull);
        Assert.Equal("promptd/echo", o.DefaultModel);
        Assert.True(o.ScriptedEngines);
        Assert.Equal(7, o.Embedded.MaxSequencesPerModel);
    }

    [Fact]
    public void Defaults_are_the_documented_ones()
    {
        var o = PromptdServerOptions.FromConfiguration(new ConfigurationBuilder().Build(), "/data", "http://127.0.0.1:1", TextWriter.Null);
        Assert.Equal(1, o.Scheduler.ConcurrencyFor("any"));
        Assert.Equal(TimeSpan.FromSeconds(30), o.Scheduler.LeaseDuration);
        Assert.Equal(TimeSpan.FromSeconds(15), o.Heartbeat);
        Assert.Equal(TimeSpan.FromMinutes(5), o.SyncTimeout);
        Assert.Equal(1 << 20, o.MaxRequestBodyBytes);
        Assert.True(o.SynchronousFull);
        Assert.False(o.ScriptedEngines);
        Assert.Equal(4, o.Embedded.MaxSequencesPerModel);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("257")]
    public void Max_sequences_out_of_range_is_a_clear_error(string value)
    {
        var c = new ConfigurationBuilder().AddCommandLine([$"--Models:MaxSequences={value}"]).Build();
        var e = Assert.Throws<ArgumentException>(() => PromptdServerOptions.FromConfiguration(c, "/data", "http://127.0.0.1:1", TextWriter.Null));
        Assert.Contains("Models:MaxSequences", e.Message);
    }

    [Fact]
    public void A_models_own_concurrency_sits_between_its_explicit_setting_and_the_default()
    {
        var o = new Promptd.Core.Scheduling.SchedulerOptions { DefaultConcurrency = 2, ModelConcurrency = id => id.StartsWith("gguf/", StringComparison.Ordinal) ? 4 : null };
        o.ConcurrencyByModel["gguf/pinned"] = 1;
        Assert.Equal(4, o.ConcurrencyFor("gguf/a"));
        Assert.Equal(1, o.ConcurrencyFor("gguf/pinned"));
        Assert.Equal(2, o.ConcurrencyFor("other"));
    }
}

using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Promptd.Core.Engines.Upstream;
using Promptd.TestSupport.Http;
using static Promptd.Core.Tests.Engines.Upstream.UpstreamTestKit;

namespace Promptd.Core.Tests.Engines.Upstream;

public sealed class UpstreamConfigurationTests
{
    [Fact]
    public async Task Engine_is_built_from_a_configuration_section()
    {
        await using var server = await ScriptedServer.StartAsync(app => app.MapPost("/v1/chat/completions", ctx => AnswerAsync(ctx, "configured")));
        string json = $$"""
        {
          "Upstreams": [
            {
              "ModelId": "{{ModelId}}",
              "UpstreamModel": "{{UpstreamModel}}",
              "BaseUrls": [ "{{server.BaseUri.ToString().TrimEnd('/')}}" ],
              "ApiKey": "sk-1",
              "Timeouts": { "Connect": "00:00:02", "FirstByte": "00:00:30", "Idle": "00:00:07", "Total": "00:05:00" },
              "Retry": { "MaxAttempts": 2 },
              "HealthCheck": { "Interval": "00:00:15", "Path": "/health" }
            }
          ]
        }
        """;
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();

        var models = configuration.GetSection("Upstreams").Get<List<UpstreamModelOptions>>()!;
        using var engine = new UpstreamEngine(models);

        var model = Assert.Single(models);
        Assert.Equal(TimeSpan.FromSeconds(7), model.Timeouts.Idle);
        Assert.Equal(2, model.Retry.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(250), model.Retry.InitialBackoff);
        Assert.Equal("/health", model.HealthCheck.Path);
        // A base URL without a path means the server's /v1.
        Assert.Equal(new Uri(server.BaseUri, "v1/").ToString(), engine.GetEndpoints(ModelId)[0].BaseUrl);
        Assert.Equal("configured", JoinText(await CollectAsync(engine.GenerateAsync(Chat(), default))));
    }

    [Theory]
    [InlineData("", "http://h/v1", "ModelId is required")]
    [InlineData("m", null, "upstream model 'm': at least one base URL is required")]
    [InlineData("m", "ftp://h/v1", "base URL 'ftp://h/v1' is not an absolute http or https URL")]
    [InlineData("m", "h:8080", "is not an absolute http or https URL")]
    [InlineData("m", "http://user:pw@h/v1", "must not carry credentials")]
    public void Invalid_declarations_are_rejected_with_a_clear_message(string modelId, string? baseUrl, string expected)
    {
        var options = new UpstreamModelOptions { ModelId = modelId, BaseUrls = baseUrl is null ? [] : [baseUrl] };

        var e = Assert.Throws<ArgumentException>(() => new UpstreamEngine(options));

        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("pw", e.Message);
    }

    [Fact]
    public void Base_url_paths_are_kept_and_bare_hosts_get_v1()
    {
        using var engine = new UpstreamEngine(
        [
            new UpstreamModelOptions { ModelId = "a", BaseUrls = ["https://api.openai.com/v1"] },
            new UpstreamModelOptions { ModelId = "b", BaseUrls = ["http://gpu1:8080"] },
            new UpstreamModelOptions { ModelId = "c", BaseUrls = ["http://gw/openai/v1/"] },
        ]);

        Assert.Equal("https://api.openai.com/v1/", engine.GetEndpoints("a")[0].BaseUrl);
        Assert.Equal("http://gpu1:8080/v1/", engine.GetEndpoints("b")[0].BaseUrl);
        Assert.Equal("http://gw/openai/v1/", engine.GetEndpoints("c")[0].BaseUrl);
    }

    [Fact]
    public void A_model_declared_twice_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new UpstreamEngine(
        [
            new UpstreamModelOptions { ModelId = "a", BaseUrls = ["http://x"] },
            new UpstreamModelOptions { ModelId = "a", BaseUrls = ["http://y"] },
        ]));
        Assert.Contains("'a' is declared twice", e.Message);
    }
}

using Promptd.Core.Engines.Embedded;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.OpenAi;

/// <summary>A server with the tiny GGUF model installed, for the SDK tests: what a client of /v1 sees.</summary>
public sealed class OpenAiServerFixture : ServerFixture
{
    public string V1 => Server.BaseUrl + "/v1";

    protected override PromptdServerOptions Configure(PromptdServerOptions options)
    {
        TestModels.Install(options.DataDirectory);
        return options with { Embedded = new EmbeddedEngineOptions { DefaultMaxTokens = 12 } };
    }
}

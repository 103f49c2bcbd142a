using Microsoft.AspNetCore.Builder;

namespace Promptd.Server.Hyperleap;

/// <summary>
/// The prompt runs dialect (Hyperleap style): templates with versions and labels (<c>/prompts</c>),
/// runs streamed as the reference's run objects (<c>/prompt-runs</c>), and the knowledge bases whose
/// documents runs cite (<c>/knowledge-bases</c>). docs/api-hyperleap.md describes it.
/// </summary>
public static class HyperleapEndpoints
{
    public static void Map(WebApplication app, PromptdServices services)
    {
        PromptEndpoints.Map(app, services);
        PromptRunEndpoints.Map(app, services);
        KnowledgeBaseEndpoints.Map(app, services);
    }
}

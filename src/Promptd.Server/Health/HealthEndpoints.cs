using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Server.Http;

namespace Promptd.Server.Health;

/// <summary><c>/healthz</c>: the process answers. <c>/readyz</c>: the database answers too (503 otherwise).</summary>
public static class HealthEndpoints
{
    public static void Map(WebApplication app, PromptdServices s)
    {
        app.MapGet("/healthz", (HttpContext c) => JsonResponse.OkAsync(c, w => w.WriteString("status", "ok")));
        app.MapGet("/readyz", async (HttpContext c) =>
        {
            bool ready;
            try
            {
                ready = await s.Storage.PingAsync(c.RequestAborted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                ready = false;
            }
            var (waiting, active) = s.Scheduler.Counts();
            await JsonResponse.WriteAsync(c, ready ? 200 : 503, w =>
            {
                w.WriteString("status", ready ? "ready" : "database unavailable");
                w.WriteNumber("queued", waiting);
                w.WriteNumber("running", active);
            });
        });
    }
}

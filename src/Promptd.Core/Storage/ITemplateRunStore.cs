using Promptd.Core.Runs;
using Promptd.Core.TemplateRuns;

namespace Promptd.Core.Storage;

/// <summary>Runs of template versions: the run itself (in the runs table, as every run) and what only a template run has.</summary>
public interface ITemplateRunStore
{
    /// <summary>Inserts the scheduled run and its details in one transaction; returns the stored run.</summary>
    Task<Run> SubmitAsync(Run run, TemplateRunDetails details, CancellationToken cancellationToken);

    Task<TemplateRun?> GetAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Lists template runs; <paramref name="userId"/> null means every user's (admins).</summary>
    Task<Query.QueryPage<TemplateRun>> QueryAsync(Query.Query query, string? userId, CancellationToken cancellationToken);
}

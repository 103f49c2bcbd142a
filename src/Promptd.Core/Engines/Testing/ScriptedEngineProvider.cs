using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Promptd.Core.Engines.Diagnostic;
using Promptd.Core.Engines.Resolution;

namespace Promptd.Core.Engines.Testing;

/// <summary>
/// Fault-injecting engines for tests of retries, timeouts and cancellation. Registered only when
/// the server runs with the testing option (<c>Testing:ScriptedEngines=true</c>); never a happy path.
/// <list type="bullet">
/// <item><c>promptd/test/fail-N</c>: the first N attempts for a given input fail (retryable), then it echoes.</item>
/// <item><c>promptd/test/fatal</c>: every attempt fails with a non-retryable error.</item>
/// <item><c>promptd/test/crash</c>: every attempt throws an unexpected exception (an engine bug).</item>
/// <item><c>promptd/test/hang</c>: yields one token, then waits until canceled.</item>
/// </list>
/// </summary>
public sealed class ScriptedEngineProvider : IEngineProvider
{
    public const string Prefix = "promptd/test/";

    // Attempts seen per (model, input), so "fail-N" fails exactly N times for each prompt.
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);

    public bool TryResolve(string modelId, out IEngine engine)
    {
        engine = null!;
        if (!modelId.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var name = modelId[Prefix.Length..];
        if (name == "fatal") engine = new FailingEngine(_ => new EngineException("scripted fatal failure", retryable: false));
        else if (name == "crash") engine = new FailingEngine(_ => new InvalidOperationException("scripted engine bug"));
        else if (name == "hang") engine = new HangingEngine();
        else if (name.StartsWith("fail-", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), out var n) && n >= 0)
            engine = new FailNTimesEngine(this, modelId, n);
        else return false;
        return true;
    }

    private sealed class FailingEngine(Func<EngineRequest, Exception> error) : IEngine
    {
        public IAsyncEnumerable<EngineChunk> GenerateAsync(EngineRequest request, CancellationToken cancellationToken) => throw error(request);
    }

    private sealed class FailNTimesEngine(ScriptedEngineProvider owner, string modelId, int failures) : IEngine
    {
        private readonly EchoEngine _echo = new(TimeSpan.Zero);

        public IAsyncEnumerable<EngineChunk> GenerateAsync(EngineRequest request, CancellationToken cancellationToken)
        {
            var key = modelId + "\n" + (request.Prompt ?? request.Messages?[^1].Content);
            var attempt = owner._attempts.AddOrUpdate(key, 1, (_, n) => n + 1);
            if (attempt <= failures) throw new EngineException($"scripted failure {attempt} of {failures}");
            return _echo.GenerateAsync(request, cancellationToken);
        }
    }

    private sealed class HangingEngine : IEngine
    {
        public async IAsyncEnumerable<EngineChunk> GenerateAsync(EngineRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            yield return new EngineChunk("thinking");
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }
}

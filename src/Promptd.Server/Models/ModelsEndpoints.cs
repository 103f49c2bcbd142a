using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core;
using Promptd.Core.Models;
using Promptd.Server.Http;

namespace Promptd.Server.Models;

/// <summary>
/// The model registry over HTTP: <c>GET /models</c> (every model with its state, size and memory, and
/// the memory budget), <c>GET /models/{id}</c>, and <c>POST /models/pull</c> (admins: download a GGUF
/// model, streaming its progress as Server-Sent Events).
/// </summary>
public static class ModelsEndpoints
{
    public static void Map(WebApplication app, PromptdServices s)
    {
        app.MapGet("/models", (HttpContext c) => JsonResponse.OkAsync(c, w =>
        {
            w.WriteStartArray("models");
            foreach (var m in s.Models.List()) ModelsWire.WriteModel(w, m, s.Options.Scheduler.ConcurrencyFor(m.Id));
            w.WriteEndArray();
            w.WriteStringOrSkip("defaultModel", s.Models.DefaultModelId);
            w.WriteStartObject("memory");
            w.WriteNumber("budgetBytes", s.Models.Host.MemoryBudget);
            w.WriteNumber("usedBytes", s.Models.Host.MemoryInUse);
            w.WriteNumber("loads", s.Models.Host.LoadCount);
            w.WriteEndObject();
        }));
        app.MapGet("/models/{**modelId}", (HttpContext c, string modelId) =>
        {
            modelId = Uri.UnescapeDataString(modelId);
            var m = s.Models.Find(modelId) ?? throw DomainException.NotFound(s.Models.WhyUnavailable(modelId) ?? $"model '{modelId}' not found");
            return JsonResponse.OkAsync(c, w =>
            {
                w.WritePropertyName("model");
                ModelsWire.WriteModel(w, m, s.Options.Scheduler.ConcurrencyFor(m.Id));
            });
        });
        app.MapPost("/models/pull", (HttpContext c) => PullAsync(c, s));
    }

    private static async Task PullAsync(HttpContext c, PromptdServices s)
    {
        if (!c.Caller().IsAdmin) throw DomainException.Forbidden("only admins can pull models");
        ModelId id;
        bool stream;
        using (var body = await JsonBody.ReadObjectAsync(c))
        {
            var text = body.RootElement.RequiredString("modelId");
            if (!ModelId.TryParse(text, out var parsed, out var error)) throw DomainException.Invalid($"invalid modelId: {error}");
            id = parsed;
            stream = body.RootElement.OptionalBool("stream") ?? true;
        }
        if (!stream)
        {
            PullResult result;
            try
            {
                result = await s.Puller.PullAsync(id, null, c.RequestAborted);
            }
            catch (ModelPullException e)
            {
                throw new RequestException(StatusOf(e.Failure), e.Message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new RequestException(500, CannotWrite(e));
            }
            s.Models.OnInstalled(id.Value);
            await JsonResponse.OkAsync(c, w => ModelsWire.WritePullResult(w, result));
            return;
        }
        await StreamPullAsync(c, s, id);
    }

    /// <summary>
    /// <c>event: progress</c> while the download runs, then <c>event: installed</c> or <c>event: error</c>.
    /// A client that leaves stops the download (unless another pull of the model still waits for
    /// it); what was downloaded stays for the next pull to resume.
    /// </summary>
    private static async Task StreamPullAsync(HttpContext c, PromptdServices s, ModelId id)
    {
        await using var sse = await SseResponse.StartAsync(c, s.Options.Heartbeat, s.Stopping);
        // Reports arrive on the download's thread and are throttled there (ModelPullOptions.ProgressInterval).
        var reports = Channel.CreateUnbounded<PullProgress>(new UnboundedChannelOptions { SingleReader = true });
        var pull = s.Puller.PullAsync(id, new ChannelProgress(reports.Writer), sse.Token);
        _ = pull.ContinueWith(_ => reports.Writer.TryComplete(), TaskScheduler.Default);
        var buffer = new ArrayBufferWriter<byte>(256);
        try
        {
            await foreach (var p in reports.Reader.ReadAllAsync(sse.Token))
            {
                await sse.WriteAsync(Frame(buffer, "progress", w => ModelsWire.WriteProgress(w, p)));
            }
            PullResult result;
            try
            {
                result = await pull;
            }
            catch (Exception e) when (e is ModelPullException or IOException or UnauthorizedAccessException)
            {
                await sse.WriteAsync(Frame(buffer, "error", w =>
                {
                    w.WriteString("error", e is ModelPullException ? e.Message : CannotWrite(e));
                    w.WriteString("failure", e is ModelPullException p ? FailureName(p.Failure) : "storage");
                }));
                return;
            }
            s.Models.OnInstalled(id.Value);
            await sse.WriteAsync(Frame(buffer, "installed", w => ModelsWire.WritePullResult(w, result)));
        }
        catch (OperationCanceledException) when (sse.Token.IsCancellationRequested)
        {
            // The client left or the server stops: the download stops with it (and resumes next time).
            await Task.WhenAny(pull);
        }
    }

    /// <summary>A full disk or a read-only folder: the admin who pulls is the one who can fix it.</summary>
    private static string CannotWrite(Exception e) => $"cannot write the models folder: {e.Message}";

    private static ReadOnlyMemory<byte> Frame(ArrayBufferWriter<byte> buffer, string type, Action<Utf8JsonWriter> writeMembers)
    {
        buffer.ResetWrittenCount();
        ServerSentEvents.AppendEvent(buffer, type, writeMembers);
        return buffer.WrittenMemory;
    }

    /// <summary>
    /// 404 when the file is not on Hugging Face, 422 when what came is not a GGUF model, 502 when the
    /// download host refused or kept failing.
    /// </summary>
    private static int StatusOf(PullFailure failure) => failure switch
    {
        PullFailure.NotFound => 404,
        PullFailure.Corrupt => 422,
        _ => 502,
    };

    private static string FailureName(PullFailure failure) => failure switch
    {
        PullFailure.NotFound => "not_found",
        PullFailure.AccessDenied => "access_denied",
        PullFailure.Transfer => "transfer",
        PullFailure.Corrupt => "corrupt",
        _ => "rejected",
    };

    /// <summary>Hands progress reports to the stream writer without blocking the download.</summary>
    private sealed class ChannelProgress(ChannelWriter<PullProgress> writer) : IProgress<PullProgress>
    {
        public void Report(PullProgress value) => writer.TryWrite(value);
    }
}

namespace Promptd.Server.Tests.Support;

public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <paramref name="timeout"/>.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        UntilAsync(condition, () => what, timeout);

    public static async Task UntilAsync(Func<Task<bool>> condition, Func<string> what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what()}");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until the prompt has <paramref name="status"/> and returns it.</summary>
    public static async Task<System.Text.Json.JsonElement> ForStatusAsync(Api api, string promptId, string status, TimeSpan? timeout = null)
    {
        System.Text.Json.JsonElement prompt = default;
        await UntilAsync(async () =>
        {
            prompt = (await api.GetAsync($"/prompt-svc/prompt/{promptId}")).ExpectOk().Prompt;
            return prompt.GetProperty("status").GetString() == status;
        }, () => $"prompt {promptId} to be {status} (last: {prompt})", timeout);
        return prompt;
    }
}

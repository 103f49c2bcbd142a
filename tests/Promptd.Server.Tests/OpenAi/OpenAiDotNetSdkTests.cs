using System.ClientModel;
using OpenAI;
using OpenAI.Chat;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.OpenAi;

/// <summary>The official OpenAI .NET SDK (NuGet "OpenAI"), unchanged, against Promptd's /v1 on a real GGUF model.</summary>
public sealed class OpenAiDotNetSdkTests(OpenAiServerFixture fixture) : IClassFixture<OpenAiServerFixture>
{
    private OpenAIClient Client(string key = TestServer.AdminKey) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(fixture.V1), RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) });

    private static readonly ChatMessage[] Messages = [new SystemChatMessage("You are terse."), new UserChatMessage("Hello the world")];

    private static ChatCompletionOptions Greedy(int maxTokens)
    {
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK.
        return new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = maxTokens, Seed = 7 };
#pragma warning restore OPENAI001
    }

    [Fact]
    public async Task Chat_completion()
    {
        var chat = Client().GetChatClient(TestModels.Tiny);

        ChatCompletion completion = await chat.CompleteChatAsync(Messages, Greedy(8));

        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.Equal(TestModels.Tiny, completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.Contains(completion.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.True(completion.Usage.InputTokenCount > 5);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 8);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        // Greedy with the same seed: the same answer again.
        ChatCompletion again = await chat.CompleteChatAsync(Messages, Greedy(8));
        Assert.Equal(completion.Content[0].Text, again.Content[0].Text);
    }

    [Fact]
    public async Task Streaming_with_usage()
    {
        var chat = Client().GetChatClient(TestModels.Tiny);
        ChatCompletion whole = await chat.CompleteChatAsync(Messages, Greedy(8));

        var text = new System.Text.StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        ChatMessageRole? role = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(Messages, Greedy(8)))
        {
            updates++;
            role ??= update.Role;
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            if (update.FinishReason is { } f) finish = f;
            if (update.Usage is { } u) usage = u;
        }

        Assert.True(updates >= 3, $"{updates} updates");
        Assert.Equal(ChatMessageRole.Assistant, role);
        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(whole.FinishReason, finish);
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
    }

    [Fact]
    public async Task Models_list()
    {
        var models = await Client().GetOpenAIModelClient().GetModelsAsync();

        Assert.Equal([TestModels.Tiny, "promptd/echo"], models.Value.Select(m => m.Id));
        Assert.Equal("test", models.Value[0].OwnedBy);
        var one = await Client().GetOpenAIModelClient().GetModelAsync(TestModels.Tiny);
        Assert.Equal(TestModels.Tiny, one.Value.Id);
    }

    [Fact]
    public async Task Error_on_an_unknown_model()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client().GetChatClient("no/such-model").CompleteChatAsync(Messages));

        Assert.Equal(404, e.Status);
        Assert.Contains("model 'no/such-model' does not exist", e.Message);
        Assert.Contains("model_not_found", e.Message);
    }

    [Fact]
    public async Task Error_on_a_wrong_key()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Client("sk-not-a-promptd-key-000").GetChatClient(TestModels.Tiny).CompleteChatAsync(Messages));

        Assert.Equal(401, e.Status);
        Assert.Contains("invalid API key", e.Message);
    }
}

using System.Text.Json;
using System.Text.RegularExpressions;

namespace Promptd.Server.Tests.Hyperleap;

/// <summary>
/// The run object of ../shared/reference/hyperleap-run-sse.txt, copied field for field, and a recursive
/// comparison: an extra, missing or misspelled member anywhere fails, and so does a value of another
/// kind. Arrays are compared element by element against the reference's one element. The members the
/// API documents as nullable (docs/api-hyperleap.md) may be null instead of a string.
/// </summary>
public static partial class ReferenceShape
{
    public const string RunObject = """
        {
        "choice": {
        "finish_reason": "<string>",
        "index": 123,
        "message": {
        "role": "<string>",
        "content": "<string>",
        "toolCallId": "<string>",
        "name": "<string>"
        },
        "moderation_results": {
        "categoryResults": [
        {
        "category": "<string>",
        "filtered": true,
        "severity": "<string>"
        }
        ]
        }
        },
        "usage": {
        "prompt_tokens": 123,
        "completion_tokens": 123,
        "total_tokens": 123
        },
        "messageId": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "runId": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "citations": [
        {
        "link": "<string>",
        "index": "<string>",
        "documentId": "<string>",
        "fileId": "<string>",
        "sourceContentType": "<string>",
        "sourceName": "<string>",
        "sourceUrl": "<string>",
        "partitions": [
        {
        "text": "<string>",
        "relevance": 123,
        "partitionNumber": 123,
        "sectionNumber": 123,
        "lastUpdate": "2023-11-07T05:31:56Z",
        "tags": {}
        }
        ]
        }
        ]
        }
        """;

    /// <summary>Members that are null when they have nothing to say (a delta's finish reason, tool fields, a document without URL).</summary>
    public static readonly IReadOnlySet<string> NullableMembers = new HashSet<string>
    {
        "choice.finish_reason", "choice.message.toolCallId", "choice.message.name", "citations[].sourceUrl",
    };

    private static readonly JsonElement Reference = JsonDocument.Parse(RunObject).RootElement.Clone();

    /// <summary>Fails with the path of every difference.</summary>
    public static void AssertMatches(JsonElement actual)
    {
        var problems = Differences(actual);
        Assert.True(problems.Count == 0, "not the reference shape: " + string.Join("; ", problems) + "\n" + actual);
    }

    public static List<string> Differences(JsonElement actual)
    {
        var problems = new List<string>();
        Compare(Reference, actual, "", problems);
        return problems;
    }

    private static void Compare(JsonElement expected, JsonElement actual, string path, List<string> problems)
    {
        var at = path.Length == 0 ? "(root)" : path;
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object when path.EndsWith("tags", StringComparison.Ordinal):
                // A map of tag name → values (Kernel Memory's TagCollection): any names, each an array of strings.
                if (actual.ValueKind != JsonValueKind.Object) { problems.Add($"{at}: expected an object, got {actual.ValueKind}"); return; }
                foreach (var tag in actual.EnumerateObject())
                {
                    if (tag.Value.ValueKind != JsonValueKind.Array || tag.Value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
                        problems.Add($"{at}.{tag.Name}: expected an array of strings");
                }
                return;
            case JsonValueKind.Object:
                if (actual.ValueKind != JsonValueKind.Object) { problems.Add($"{at}: expected an object, got {actual.ValueKind}"); return; }
                var names = expected.EnumerateObject().Select(p => p.Name).ToList();
                var actualNames = actual.EnumerateObject().Select(p => p.Name).ToList();
                foreach (var missing in names.Except(actualNames)) problems.Add($"{Join(path, missing)}: missing");
                foreach (var extra in actualNames.Except(names)) problems.Add($"{Join(path, extra)}: not in the reference");
                if (actualNames.Count != actualNames.Distinct().Count()) problems.Add($"{at}: a member appears twice");
                foreach (var name in names.Intersect(actualNames)) Compare(expected.GetProperty(name), actual.GetProperty(name), Join(path, name), problems);
                return;
            case JsonValueKind.Array:
                if (actual.ValueKind != JsonValueKind.Array) { problems.Add($"{at}: expected an array, got {actual.ValueKind}"); return; }
                foreach (var item in actual.EnumerateArray()) Compare(expected[0], item, path + "[]", problems);
                return;
            case JsonValueKind.String:
                if (actual.ValueKind == JsonValueKind.Null && NullableMembers.Contains(path)) return;
                if (actual.ValueKind != JsonValueKind.String) { problems.Add($"{at}: expected a string, got {actual.ValueKind}"); return; }
                var example = expected.GetString()!;
                if (Guid.TryParseExact(example, "D", out _) && !Guid.TryParseExact(actual.GetString(), "D", out _))
                    problems.Add($"{at}: expected a UUID, got '{actual.GetString()}'");
                if (DateTimePattern().IsMatch(example) && !DateTimePattern().IsMatch(actual.GetString()!))
                    problems.Add($"{at}: expected a date-time like {example}, got '{actual.GetString()}'");
                return;
            case JsonValueKind.Number:
                if (actual.ValueKind != JsonValueKind.Number) problems.Add($"{at}: expected a number, got {actual.ValueKind}");
                else if (expected.TryGetInt64(out _) && path is not "citations[].partitions[].relevance" && !actual.TryGetInt64(out _))
                    problems.Add($"{at}: expected an integer, got {actual.GetRawText()}");
                return;
            case JsonValueKind.True or JsonValueKind.False:
                if (actual.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) problems.Add($"{at}: expected a boolean, got {actual.ValueKind}");
                return;
            default:
                problems.Add($"{at}: unexpected reference value");
                return;
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
    private static partial Regex DateTimePattern();
}

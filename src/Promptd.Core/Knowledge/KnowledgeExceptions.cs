namespace Promptd.Core.Knowledge;

/// <summary>Base of the document errors; messages are safe to show to the client.</summary>
public abstract class KnowledgeException(string message) : Exception(message);

/// <summary>
/// The upload's content type (or its charset) is not one Promptd can read. The HTTP layer answers 415.
/// </summary>
public sealed class UnsupportedContentTypeException(string contentType, string message) : KnowledgeException(message)
{
    public string ContentType { get; } = contentType;
}

/// <summary>The document's bytes do not hold what its content type says (bad encoding, no text). The HTTP layer answers 400.</summary>
public sealed class InvalidDocumentException(string message) : KnowledgeException(message);

namespace Promptd.Core;

/// <summary>What kind of client-visible failure a <see cref="DomainException"/> is; each dialect maps it to a status.</summary>
public enum ErrorKind
{
    Invalid,
    NotFound,
    Conflict,
    Forbidden,
}

/// <summary>A request the domain refuses, with a message safe to show the client.</summary>
public sealed class DomainException(ErrorKind kind, string message) : Exception(message)
{
    public ErrorKind Kind { get; } = kind;

    public static DomainException Invalid(string message) => new(ErrorKind.Invalid, message);
    public static DomainException NotFound(string message) => new(ErrorKind.NotFound, message);
    public static DomainException Conflict(string message) => new(ErrorKind.Conflict, message);
    public static DomainException Forbidden(string message) => new(ErrorKind.Forbidden, message);
}

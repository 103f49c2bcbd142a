using System.Net.Sockets;

namespace Promptd.Core;

/// <summary>Short, address-free descriptions of HTTP transport failures, fit for a client or a terminal.</summary>
internal static class HttpErrors
{
    /// <summary>True when no connection was made (so another server may be tried at once).</summary>
    public static bool IsConnectFailure(HttpRequestException e) =>
        e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
            or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError;

    public static string Describe(HttpRequestException e) => e.HttpRequestError switch
    {
        HttpRequestError.ConnectionError => FindSocketError(e) switch
        {
            SocketError.ConnectionRefused => "connection refused",
            SocketError.TimedOut => "connection timed out",
            SocketError.HostUnreachable or SocketError.NetworkUnreachable => "host unreachable",
            _ => "could not connect",
        },
        HttpRequestError.NameResolutionError => "host name not found",
        HttpRequestError.SecureConnectionError => "TLS handshake failed",
        HttpRequestError.ProxyTunnelError => "proxy tunnel failed",
        HttpRequestError.ResponseEnded => "the server closed the connection",
        HttpRequestError.InvalidResponse => "invalid HTTP response",
        HttpRequestError.ConfigurationLimitExceeded => "response exceeded a configured limit",
        _ => "HTTP transport error",
    };

    private static SocketError? FindSocketError(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is SocketException s) return s.SocketErrorCode;
        }
        return null;
    }
}

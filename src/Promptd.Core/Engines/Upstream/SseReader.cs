using System.Buffers;

namespace Promptd.Core.Engines.Upstream;

/// <summary>
/// Reads Server-Sent Events from a stream and hands out the data of each event. Lines are found in
/// a pooled buffer and the data is gathered into a reused buffer, so a steady stream of events
/// allocates nothing. Comments, "event:", "id:" and "retry:" lines are ignored: OpenAI-style streams
/// carry everything in "data:".
/// </summary>
internal sealed class SseReader : IDisposable
{
    /// <summary>A line longer than this is a broken or hostile stream, not a token.</summary>
    public const int MaxLineBytes = 1 << 20;

    private readonly Stream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    private int _start, _end;
    private bool _endOfStream;
    private readonly ArrayBufferWriter<byte> _data = new(1024);
    private readonly Action? _onBytes;

    /// <param name="onBytes">Called after every read that got bytes, comments included: a server that
    /// sends keep-alive comments (Promptd's ": ping" while a run waits in its queue) is not silent.</param>
    public SseReader(Stream stream, Action? onBytes = null)
    {
        _stream = stream;
        _onBytes = onBytes;
    }

    /// <summary>
    /// The data of the next event (several "data:" lines joined by '\n'), valid until the next call;
    /// null at the end of the stream. An event left unterminated by the end of the stream still counts.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadEventAsync(CancellationToken cancellationToken)
    {
        _data.ResetWrittenCount();
        bool hasData = false;
        while (true)
        {
            int lineLength = await NextLineAsync(cancellationToken);
            if (lineLength < 0) return hasData ? _data.WrittenMemory : null;
            var line = _buffer.AsSpan(_start, lineLength);
            _start += lineLength + 1;
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];

            if (line.IsEmpty)
            {
                if (hasData) return _data.WrittenMemory;
                continue;
            }
            if (!line.StartsWith("data:"u8)) continue;
            var value = line[5..];
            if (!value.IsEmpty && value[0] == (byte)' ') value = value[1..];
            if (hasData) _data.Write("\n"u8);
            _data.Write(value);
            hasData = true;
        }
    }

    /// <summary>Length of the next '\n'-terminated line starting at _start, or -1 at the end of the stream.</summary>
    private async ValueTask<int> NextLineAsync(CancellationToken cancellationToken)
    {
        int scanned = 0;
        while (true)
        {
            int newline = _buffer.AsSpan(_start + scanned, _end - _start - scanned).IndexOf((byte)'\n');
            if (newline >= 0) return scanned + newline;
            scanned = _end - _start;
            if (_endOfStream)
            {
                if (scanned == 0) return -1;
                // The last line had no terminator: give it one so it parses like any other.
                EnsureSpace();
                _buffer[_end++] = (byte)'\n';
                continue;
            }
            if (scanned >= MaxLineBytes)
                throw new InvalidDataException($"the upstream sent a line longer than {MaxLineBytes} bytes");
            EnsureSpace();
            int n = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (n == 0) _endOfStream = true;
            else _onBytes?.Invoke();
            _end += n;
        }
    }

    /// <summary>Makes room after _end: slides the unread bytes to the front, or grows the buffer.</summary>
    private void EnsureSpace()
    {
        if (_end < _buffer.Length) return;
        int unread = _end - _start;
        if (unread < _buffer.Length / 2)
        {
            _buffer.AsSpan(_start, unread).CopyTo(_buffer);
        }
        else
        {
            var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(_start, unread).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        _start = 0;
        _end = unread;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// A read-only <see cref="FileStream"/> (a tty, a FIFO, a file) with a read timeout, for
/// <see cref="SerialFrameSource"/>: before each read it waits with poll(2) until data is there, at most
/// <see cref="Timeout"/> (then <see cref="ReadTimeoutException"/>), in slices short enough that disposing
/// the stream (cancellation) ends a wait within a fraction of a second. FileStream has no read timeout
/// of its own, and closing a file does not wake a read blocked on a tty. On Windows (no poll) reads
/// block as a plain FileStream's do. Allocates nothing per read.
/// </summary>
public sealed class PollingReadStream : ReadOnlyStream
{
    private const short PollIn = 0x001;
    private const int Eintr = 4;
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(200);

    private readonly FileStream _inner;
    private volatile bool _disposed;

    /// <param name="inner">The opened file; owned (disposed with this stream).</param>
    /// <param name="timeout">Longest wait for data; <see cref="TimeSpan.Zero"/> or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> = none.</param>
    public PollingReadStream(FileStream inner, TimeSpan timeout)
    {
        _inner = inner;
        Timeout = timeout;
    }

    public TimeSpan Timeout { get; }

    /// <summary>Whether reads can time out here (poll is available: not Windows).</summary>
    public static bool Supported => !OperatingSystem.IsWindows();



    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.Length > 0 && Supported) WaitForData();
        return _inner.Read(buffer);
    }

    private void WaitForData()
    {
        bool limited = Timeout > TimeSpan.Zero && Timeout != System.Threading.Timeout.InfiniteTimeSpan;
        long start = Stopwatch.GetTimestamp();
        SafeFileHandle handle = _inner.SafeFileHandle;
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            TimeSpan wait = Slice;
            if (limited)
            {
                TimeSpan left = Timeout - Stopwatch.GetElapsedTime(start);
                if (left <= TimeSpan.Zero) throw new ReadTimeoutException(Timeout);
                if (left < wait) wait = left;
            }
            bool added = false;
            int ready;
            int errno = 0;
            try
            {
                handle.DangerousAddRef(ref added); // the fd stays open while poll uses it, even if the stream is disposed meanwhile
                var fd = new PollFd { Fd = (int)handle.DangerousGetHandle(), Events = PollIn };
                ready = poll(ref fd, 1, Math.Max(1, (int)Math.Ceiling(wait.TotalMilliseconds)));
                if (ready < 0) errno = Marshal.GetLastPInvokeError();
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
            if (ready > 0) return;   // data, end of file or an error: the read says which
            if (ready < 0 && errno != Eintr) throw new IOException($"poll failed (errno {errno})");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _disposed = true;
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int poll(ref PollFd fds, nuint nfds, int timeout);
}

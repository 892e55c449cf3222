using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources.Decoders;

/// <summary>
/// The ImageSharp allocator of <see cref="ImageLimits"/>: it hands the decoder the frame's own buffer as the
/// decoded image's pixel memory, so a decode holds one image, not the decoded image plus a copy in the
/// frame. <see cref="Decode{TPixel}"/> sizes the frame first, then arms this allocator (per thread) for one
/// contiguous buffer of exactly width x height pixels (of the decode's pixel type), the image's pixel buffer
/// (<see cref="Configuration.PreferContiguousImageBuffers"/> makes it one allocation). Every other buffer
/// (rows, JPEG blocks) comes from the pooled allocator inside, whose use this class also counts
/// (<see cref="ImageDecoder.LastDecodeLibraryPeakBytes"/>). When the decoder never asks for the armed buffer
/// the image is decoded into ImageSharp's memory and copied, as before: correct, only larger.
/// </summary>
internal sealed class FrameBufferAllocator : MemoryAllocator
{
    [ThreadStatic] private static byte[]? t_target;
    [ThreadStatic] private static Type? t_targetType;
    [ThreadStatic] private static int t_targetLength;
    [ThreadStatic] private static bool t_borrowed;
    [ThreadStatic] private static long t_outstanding;
    [ThreadStatic] private static long t_peak;
    [ThreadStatic] private static long t_lastPeak;

    private readonly MemoryAllocator _inner;

    public FrameBufferAllocator(MemoryAllocator inner) => _inner = inner;

    /// <summary>Peak bytes of ImageSharp's own buffers during this thread's last <see cref="Decode{TPixel}"/> (the frame's buffer not included).</summary>
    internal static long LastPeak => t_lastPeak;

    protected override int GetBufferCapacityInBytes() => int.MaxValue;

    public override IMemoryOwner<T> Allocate<T>(int length, AllocationOptions options = AllocationOptions.None)
    {
        if (t_target is byte[] target && typeof(T) == t_targetType && length == t_targetLength)
        {
            t_target = null;
            t_borrowed = true;
            var borrowed = new BorrowedMemory<T>(target, length);
            if (options == AllocationOptions.Clean) borrowed.GetSpan().Clear();
            return borrowed;
        }
        IMemoryOwner<T> owner = _inner.Allocate<T>(length, options);
        long bytes = (long)length * Unsafe.SizeOf<T>();
        t_outstanding += bytes;
        t_peak = Math.Max(t_peak, t_outstanding);
        return new CountedMemory<T>(owner, bytes);
    }

    public override void ReleaseRetainedResources() => _inner.ReleaseRetainedResources();

    /// <summary>
    /// Decodes <paramref name="data"/> (already identified as <paramref name="width"/> x <paramref name="height"/>)
    /// as <typeparamref name="TPixel"/> with the frame's buffer as the image's memory: the frame is reset to
    /// <paramref name="width"/> x <paramref name="height"/> GRAY8 with a stride of one pixel's bytes, so its buffer
    /// holds the packed image; the caller resets the frame to the format it ends in (the pixels stay where they are).
    /// The returned image views that buffer; dispose it before the frame is reused.
    /// </summary>
    internal static Image<TPixel> Decode<TPixel>(Configuration configuration, ReadOnlySpan<byte> data, Frame frame, int width, int height)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        int size = Unsafe.SizeOf<TPixel>();
        frame.Reset(width, height, PixelFormat.Gray8, checked(width * size));
        t_target = frame.Data;
        t_targetType = typeof(TPixel);
        t_targetLength = checked(width * height);
        t_borrowed = false;
        t_outstanding = 0;
        t_peak = 0;
        Image<TPixel> image;
        try
        {
            image = Image.Load<TPixel>(configuration, data);
        }
        finally
        {
            t_target = null;
            t_targetType = null;
            t_lastPeak = t_peak;
        }
        if (!t_borrowed)
        {
            // The decoder allocated its pixels elsewhere (another ImageSharp version or layout): copy them in.
            image.CopyPixelDataTo(MemoryMarshal.Cast<byte, TPixel>(frame.Data.AsSpan(0, width * height * size)));
        }
        return image;
    }

    /// <summary>A frame's byte buffer as a <typeparamref name="T"/> buffer; disposing it leaves the array to the frame.</summary>
    private sealed class BorrowedMemory<T> : MemoryManager<T>
        where T : struct
    {
        private readonly byte[] _array;
        private readonly int _length;

        public BorrowedMemory(byte[] array, int length)
        {
            _array = array;
            _length = length;
        }

        public override Span<T> GetSpan() => MemoryMarshal.Cast<byte, T>(_array.AsSpan(0, _length * Unsafe.SizeOf<T>()));

        // Memory<byte>.Pin pins the array for as long as the handle lives.
        public override MemoryHandle Pin(int elementIndex = 0) => _array.AsMemory(elementIndex * Unsafe.SizeOf<T>()).Pin();

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }

    /// <summary>An ImageSharp buffer whose bytes count towards the decode's peak until it is disposed.</summary>
    private sealed class CountedMemory<T> : IMemoryOwner<T>
    {
        private IMemoryOwner<T>? _owner;
        private readonly long _bytes;

        public CountedMemory(IMemoryOwner<T> owner, long bytes)
        {
            _owner = owner;
            _bytes = bytes;
        }

        public Memory<T> Memory => (_owner ?? throw new ObjectDisposedException(nameof(CountedMemory<T>))).Memory;

        public void Dispose()
        {
            if (_owner is null) return;
            _owner.Dispose();
            _owner = null;
            t_outstanding -= _bytes;
        }
    }
}

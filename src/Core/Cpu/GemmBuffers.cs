namespace DeformEngine.Cpu;

/// <summary>Per-thread packing buffers, reused across calls so that packing allocates nothing once
/// warm: the calling thread's shared buffer holds the packed op(A) every worker reads, and each
/// worker's slice buffer the op(B) block of the task it runs. They live on the pinned object heap so that raw pointers into them stay valid,
/// and start on a 64-byte boundary so that no packed vector load splits a cache line.</summary>
/// <remarks>A thread never needs two shared (or two slice) buffers at once: a parallel loop body runs
/// to completion on its thread, and a GEMM call does not call back into user code.</remarks>
internal static unsafe class GemmBuffers<T> where T : unmanaged
{
    [ThreadStatic] private static PinnedBuffer? s_shared;
    [ThreadStatic] private static PinnedBuffer? s_slice;

    public static T* Shared(int length) => Get(ref s_shared, length);

    public static T* Slice(int length) => Get(ref s_slice, length);

    private static T* Get(ref PinnedBuffer? buffer, int length)
    {
        if (buffer is null || buffer.Length < length)
            buffer = new PinnedBuffer(length);
        return buffer.Pointer;
    }

    private sealed class PinnedBuffer
    {
        // Held only to keep the pinned array alive; Pointer points into it.
        private readonly T[] _storage;

        public PinnedBuffer(int length)
        {
            _storage = CacheLine.AllocatePinned<T>(length);
            Pointer = CacheLine.Start(_storage);
            Length = length;
        }

        public int Length { get; }

        public T* Pointer { get; }
    }
}

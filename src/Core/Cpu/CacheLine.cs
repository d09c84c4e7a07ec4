namespace DeformEngine.Cpu;

/// <summary>Buffers placed on cache lines. A managed array's elements start 16 bytes into an object that the
/// allocator places on an 8-byte boundary, so a vector loop over a plain array splits a load or a store across two
/// lines every other Vector256 and every Vector512. A pinned array (it never moves) with a line's worth of slack lets
/// a buffer start on a line for good: the GEMM's packed panels and the operators' scratch buffers do.</summary>
internal static unsafe class CacheLine
{
    /// <summary>Bytes of a cache line.</summary>
    public const int Bytes = 64;

    /// <summary>A pinned array with room for <paramref name="length"/> elements from its first line on.</summary>
    public static T[] AllocatePinned<T>(long length) where T : unmanaged =>
        GC.AllocateUninitializedArray<T>(checked((int)(length + Bytes / sizeof(T))), pinned: true);

    /// <summary>Elements to skip from the start of <paramref name="array"/> to its first line. The array must be pinned
    /// (allocated on the pinned heap), or the answer would not hold once the collector moved it.</summary>
    public static int Offset<T>(T[] array) where T : unmanaged
    {
        fixed (T* start = array)
        {
            int misaligned = (int)((nuint)start % Bytes);
            return misaligned == 0 ? 0 : (Bytes - misaligned) / sizeof(T);
        }
    }

    /// <summary>The first element of a pinned <paramref name="array"/> that starts a line.</summary>
    public static T* Start<T>(T[] array) where T : unmanaged
    {
        fixed (T* start = array)
            return start + Offset(array);
    }
}

using DeformEngine.Cpu;

namespace DeformEngine.Kernels;

/// <summary>One cached scratch array per element type, reused from call to call so that a large
/// column buffer is not allocated (and zeroed, and collected) on every forward and backward. A call
/// takes the array and gives it back; a call that finds it taken (another thread inside an operator)
/// allocates its own. Arrays longer than the current workspace budget are dropped, not kept. The arrays are
/// pinned (they never move), so that a caller can place its buffers on cache-line boundaries
/// (<see cref="ScratchAlignment"/>).</summary>
internal static class ScratchArrays<T> where T : unmanaged
{
    private static T[]? _cached;

    public static T[] Rent(long length)
    {
        var array = Interlocked.Exchange(ref _cached, null);
        long keepLimit = Math.Max(length, EngineOptions.WorkspaceBytes / System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        if (array is not null && array.Length >= length && array.Length <= keepLimit) return array;
        if (length > Array.MaxLength)
            throw new InvalidOperationException($"A workspace of {length} elements does not fit in one array; lower EngineOptions.WorkspaceBytes.");
        return GC.AllocateUninitializedArray<T>((int)Math.Max(length, 1), pinned: true);
    }

    public static void Return(T[] array) => Volatile.Write(ref _cached, array);
}

/// <summary>One scratch buffer per thread and element type, for the tasks of a parallel loop that each need a
/// private buffer (a task runs to completion on its thread, so a thread never needs two at once). It grows to
/// the largest length asked for and is kept; it starts on a cache line (a pinned array, <see cref="ScratchAlignment"/>).</summary>
internal static class ThreadScratch<T> where T : unmanaged
{
    [ThreadStatic] private static T[]? t_array;

    public static Span<T> Get(int length)
    {
        var array = t_array;
        if (array is null || array.Length - CacheLine.Offset(array) < length)
            t_array = array = CacheLine.AllocatePinned<T>(Math.Max(length, 1));
        return array.AsSpan(CacheLine.Offset(array), length);
    }
}

/// <summary>Where the buffers of a pinned scratch array start: each on a cache line (<see cref="CacheLine"/>). On one core
/// the backward's sampling pass at N4 C256 took 10.2–12.2 ms on buffers on 64-byte boundaries against 11.4–13.4 on the
/// layout the plain array gave (docs/benchmarks.md, seventh pass).</summary>
internal static class ScratchAlignment
{
    /// <summary>Elements a buffer may have to skip to reach a line (at most a line of floats, half of one of doubles), and
    /// the multiple every buffer's length is rounded up to so that the next one starts on a line too.</summary>
    public const int Slack = CacheLine.Bytes / sizeof(float);

    /// <summary><paramref name="length"/> rounded up to a multiple of <see cref="Slack"/> elements.</summary>
    public static long Round(long length) => (length + Slack - 1) / Slack * Slack;
}

namespace DeformEngine.Kernels;

/// <summary>One cached scratch array per element type, reused from call to call so that a large
/// column buffer is not allocated (and zeroed, and collected) on every forward and backward. A call
/// takes the array and gives it back; a call that finds it taken (another thread inside an operator)
/// allocates its own. Arrays longer than the current workspace budget are dropped, not kept.</summary>
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
        return new T[Math.Max(length, 1)];
    }

    public static void Return(T[] array) => Volatile.Write(ref _cached, array);
}

/// <summary>One scratch array per thread and element type, for the tasks of a parallel loop that each need a
/// private buffer (a task runs to completion on its thread, so a thread never needs two at once). It grows to
/// the largest length asked for and is kept.</summary>
internal static class ThreadScratch<T> where T : unmanaged
{
    [ThreadStatic] private static T[]? t_array;

    public static T[] Get(int length)
    {
        var array = t_array;
        if (array is null || array.Length < length)
            t_array = array = GC.AllocateUninitializedArray<T>(Math.Max(length, 1));
        return array;
    }
}

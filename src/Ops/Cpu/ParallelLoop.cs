namespace DeformEngine.Kernels;

/// <summary>Runs a fixed list of independent tasks on up to <see cref="EngineOptions.Threads"/> threads.
/// Callers partition work by task index only (never by thread), so which thread runs a task cannot
/// change a result.</summary>
internal static class ParallelLoop
{
    public static void For(int count, Action<int> body)
    {
        if (Math.Min(EngineOptions.Threads, count) <= 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, EngineOptions.ParallelOptions, body);
    }
}

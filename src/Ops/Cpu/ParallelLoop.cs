using DeformEngine.Cpu;

namespace DeformEngine.Kernels;

/// <summary>Runs a fixed list of independent tasks on up to <see cref="EngineOptions.Threads"/> threads
/// (the engine's <see cref="CpuWorkers"/>, whose helpers stay awake between the loops of one call).
/// Callers partition work by task index only (never by thread), so which thread runs a task cannot
/// change a result.</summary>
internal static class ParallelLoop
{
    public static void For(int count, Action<int> body)
    {
        CpuWorkers.For(count, body);
    }
}

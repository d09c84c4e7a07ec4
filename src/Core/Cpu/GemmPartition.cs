namespace DeformEngine.Cpu;

/// <summary>How many B panels each column task takes: as many as fit the L2 slice at most, and within
/// that the split whose tasks, claimed in order by the threads, finish the soonest (on one thread, the
/// fewest slices of equal width).</summary>
/// <remarks>
/// With few panels per thread a plain split is lopsided: n = 392 is 8 panels of 48 and one of 8, and two
/// tasks of 5 and 4 panels keep one thread busy for 240 columns and the other for 152 (82 %). Smaller
/// tasks balance better but each one streams all of A's rows again, so a task is charged
/// <see cref="TaskOverheadColumns"/> columns on top of its own: streaming a row of packed A from L3
/// costs about a third of computing it against one 48-column panel (4 bytes at ~20 GB/s against 96
/// flops at ~150 GFLOP/s). The partition never changes which lanes and steps compute an element of C,
/// so results stay the same for any thread count.
/// </remarks>
internal static class GemmPartition
{
    public const int TaskOverheadColumns = 16;

    /// <summary>Panels per column task for n columns in panels of <paramref name="panelWidth"/>, at most
    /// <paramref name="maxPanels"/> per task, on <paramref name="threads"/> threads.</summary>
    public static int PanelsPerTask(int n, int panelWidth, int maxPanels, int threads)
    {
        int panels = (n + panelWidth - 1) / panelWidth;
        int perTask = Math.Min(panels, Math.Max(1, maxPanels));
        if (threads <= 1 || panels <= 1)
        {
            // As few slices as L2 allows, of equal width: 36 panels at most 32 a slice are 18 + 18, not 32 + 4,
            // whose 4-panel slice reloads every A panel for only four B panels (one thread, the m = 64 weight
            // gradients: +2–5 % in one process).
            int slices = (panels + perTask - 1) / perTask;
            return (panels + slices - 1) / slices;
        }
        long best = Makespan(n, panelWidth, perTask, threads);
        for (int candidate = perTask - 1; candidate >= 1; candidate--)
        {
            long makespan = Makespan(n, panelWidth, candidate, threads);
            // Fewer, larger tasks unless smaller ones finish clearly sooner.
            if (makespan * 50 < best * 49)
            {
                best = makespan;
                perTask = candidate;
            }
        }
        return perTask;
    }

    /// <summary>When the last thread finishes, in columns, if tasks of <paramref name="perTask"/> panels
    /// go in order to whichever thread is free first.</summary>
    internal static long Makespan(int n, int panelWidth, int perTask, int threads)
    {
        int width = perTask * panelWidth;
        Span<long> busy = threads <= 64 ? stackalloc long[threads] : new long[threads];
        for (int start = 0; start < n; start += width)
        {
            int next = 0;
            for (int t = 1; t < threads; t++)
                if (busy[t] < busy[next])
                    next = t;
            busy[next] += Math.Min(width, n - start) + TaskOverheadColumns;
        }
        long makespan = 0;
        foreach (long b in busy)
            makespan = Math.Max(makespan, b);
        return makespan;
    }
}

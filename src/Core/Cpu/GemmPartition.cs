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
    /// <paramref name="maxPanels"/> per task, on <paramref name="threads"/> threads, for a C of
    /// <paramref name="rows"/> rows.</summary>
    public static int PanelsPerTask(int n, int panelWidth, int maxPanels, int threads, int rows)
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
        long best = Makespan(n, panelWidth, perTask, threads, rows);
        for (int candidate = perTask - 1; candidate >= 1; candidate--)
        {
            long makespan = Makespan(n, panelWidth, candidate, threads, rows);
            // Fewer, larger tasks unless smaller ones finish clearly sooner.
            if (makespan * 50 < best * 49)
            {
                best = makespan;
                perTask = candidate;
            }
        }
        return perTask;
    }

    /// <summary>Whether the last of the column slices of <paramref name="perTask"/> panels is cut into row parts, one
    /// per thread (when there are at least as many slices as threads; with fewer, every slice is): where it is only a
    /// partial panel, which the narrow kernel runs at a fraction of the full one's rate, and the full slices cannot
    /// share it (<see cref="SharesNarrowTail"/>), or where the slices do not share out evenly over the threads (n = 1024: slices of 10, 10 and 2
    /// panels kept one thread busy for 544 columns and the other for 480: split, 1024³ on two threads +4–5 % in one
    /// process, each run the last of four back to back). Claimed last by one thread, such a slice kept the others
    /// idle for its whole length.</summary>
    public static bool SplitsLastSlice(int n, int panelWidth, int perTask, int threads)
    {
        int width = perTask * panelWidth, slices = (n + width - 1) / width;
        return threads > 1 && slices > 1 && slices >= threads && !SharesNarrowTail(n, panelWidth, perTask, threads) &&
            (n - (slices - 1) * width < panelWidth || slices % threads != 0);
    }

    /// <summary>Whether a last slice that is only a partial panel is shared out by rows among the full slices
    /// instead of being a task of its own: where the full slices share out evenly over the threads. Each full slice's
    /// task then also computes the partial panel for its share of the rows, right after its own panels, while each A
    /// panel is still in L1 (n = 392 on two threads: slices of 4 panels, each with half of the last 8 columns' rows).
    /// As row parts of their own, the 8 columns streamed every A panel again for one narrow tile each: N2 C512's
    /// forward product on two threads, in one process, each run the last of four back to back, best of 40–50 runs:
    /// +0.7 to +2.4 % in seven comparisons (A packed beforehand or not; medians −3 to +2 %).</summary>
    public static bool SharesNarrowTail(int n, int panelWidth, int perTask, int threads)
    {
        int width = perTask * panelWidth, slices = (n + width - 1) / width;
        return threads > 1 && slices - 1 >= threads && (slices - 1) % threads == 0 && n - (slices - 1) * width < panelWidth;
    }

    /// <summary>A row part of a split slice packs the slice's whole B block again. Packing an element of B costs about
    /// what this many of its multiply-adds do (B packed at ~10 GB/s against ~150 GFLOP/s on one AVX-512 core), so a
    /// part is charged the slice's columns × this / rows. Without the charge, with m = 256 and two threads, 2304
    /// columns went to four slices and a split fifth, 1 % slower than six even slices, and with m = 64, 3136 columns
    /// to six and a split seventh, 1–2 % slower than nine (one process, each run the last of four back to back).</summary>
    private const int RepackRows = 30;

    /// <summary>When the last thread finishes, in columns, if tasks of <paramref name="perTask"/> panels
    /// go in order to whichever thread is free first (the last one cut in row parts where
    /// <see cref="SplitsLastSlice"/> says so: a part costs its share of the columns, the task overhead and the
    /// repacking of the slice).</summary>
    internal static long Makespan(int n, int panelWidth, int perTask, int threads, int rows)
    {
        int width = perTask * panelWidth;
        Span<long> busy = threads <= 64 ? stackalloc long[threads] : new long[threads];
        int slices = (n + width - 1) / width;
        if (SharesNarrowTail(n, panelWidth, perTask, threads))
        {
            int tail = n - (slices - 1) * width;
            for (int slice = 0; slice < slices - 1; slice++)
                Deal(busy, width + (tail + slices - 2) / (slices - 1) + TaskOverheadColumns);
            return Max(busy);
        }
        bool split = SplitsLastSlice(n, panelWidth, perTask, threads);
        int whole = split ? slices - 1 : slices;
        for (int slice = 0; slice < whole; slice++)
            Deal(busy, Math.Min(width, n - slice * width) + TaskOverheadColumns);
        if (split)
        {
            int last = n - whole * width;
            for (int part = 0; part < threads; part++)
                Deal(busy, (last + threads - 1) / threads + TaskOverheadColumns + (long)last * RepackRows / Math.Max(1, rows));
        }
        return Max(busy);
    }

    private static long Max(Span<long> busy)
    {
        long makespan = 0;
        foreach (long b in busy)
            makespan = Math.Max(makespan, b);
        return makespan;
    }

    /// <summary>Gives a task of <paramref name="cost"/> columns to the thread that is free first.</summary>
    private static void Deal(Span<long> busy, long cost)
    {
        int next = 0;
        for (int t = 1; t < busy.Length; t++)
            if (busy[t] < busy[next])
                next = t;
        busy[next] += cost;
    }
}

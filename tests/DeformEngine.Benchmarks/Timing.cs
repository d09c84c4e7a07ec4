using System.Diagnostics;

namespace DeformEngine.Benchmarks;

/// <summary>Wall-clock timing shared by the benchmarks.</summary>
public static class Timing
{
    /// <summary>Median seconds of <paramref name="reps"/> runs after <paramref name="warmup"/>
    /// untimed ones (which let tiered JIT reach its optimised code); the median ignores the odd
    /// run disturbed by other processes on a shared machine.</summary>
    public static double Median(Action action, int warmup, int reps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        for (int i = 0; i < warmup; i++)
            action();
        var seconds = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(seconds);
        return seconds[reps / 2];
    }

    /// <summary>Seconds of one run: the calling thread's CPU time when the work runs on one thread
    /// (it leaves out the time the thread spends preempted by other processes), else wall-clock.</summary>
    public static double Once(Action action, int threads)
    {
        if (threads == 1 && CpuClock.IsAvailable)
        {
            double cpu = CpuClock.Thread();
            action();
            return CpuClock.Thread() - cpu;
        }
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary><see cref="Once"/>, started (on more than one thread) once the process is idle
    /// (<see cref="WaitUntilIdle"/>), so that the peer that ran before does not share the cores. With
    /// <paramref name="streak"/> above 1, the timed run is the last of that many back to back: the side's own
    /// threads are awake and the vCPUs busy, as for a caller that calls again at once (after a pause the vCPUs
    /// of the VM in docs/benchmarks.md ran a two-thread product 15–40 % slower, both sides alike).</summary>
    public static double OnceFromIdle(Action action, int threads, int streak = 1)
    {
        if (threads > 1)
            WaitUntilIdle();
        for (int i = 1; i < streak; i++)
            action();
        return Once(action, threads);
    }

    /// <summary>Returns once this process has used less than 1 ms of CPU over 10 ms, or after a second: the
    /// other side's worker threads have stopped spinning. ONNX Runtime's intra-op workers spin for 40–50 ms
    /// after a run and OpenBLAS's after a call, and a two-thread run that starts while one of them spins
    /// has one core, not two. The process clock advances in scheduler ticks (4 ms here), so a shorter
    /// window can miss a spinning thread.</summary>
    public static void WaitUntilIdle()
    {
        if (!CpuClock.IsAvailable)
            return;
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start).TotalSeconds < 1)
        {
            double before = CpuClock.Process();
            Thread.Sleep(10);
            if (CpuClock.Process() - before < 1e-3)
                return;
        }
    }

    /// <summary>What <see cref="Once"/> measures for a thread count, for the reports.</summary>
    public static string ClockName(int threads) =>
        threads == 1 && CpuClock.IsAvailable ? "thread CPU time" : "wall-clock time";
}

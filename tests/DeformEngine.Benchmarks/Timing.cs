using System.Diagnostics;
using System.Runtime;
using System.Runtime.CompilerServices;

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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double OnceFromIdle(Action action, int threads, int streak = 1)
    {
        if (threads > 1)
            WaitUntilIdle();
        for (int i = 1; i < streak; i++)
            action();
        return Once(action, threads);
    }

    /// <summary>Brings the timed calls' code to its steady tier before any timing. Tiered compilation recompiles a
    /// method on a background thread once it has been called 30 times, and with dynamic PGO once more after 30
    /// instrumented calls; counting starts only once no new method has been compiled for 100 ms. A warm-up of a few
    /// large calls therefore leaves the per-call code (argument checks, the GEMM's job and task set-up, the worker
    /// hand-off, an operator's dispatch) to be recompiled during the timed pairs: on the other vCPU of a 2-vCPU machine,
    /// in the very run whose call crossed the count. With a 0.3 s warm-up, 26 to 52 methods (16–32 ms of JIT) were
    /// compiled during the 21 timed pairs of a 1024³ product. This calls <paramref name="smallCall"/> (the same path on
    /// a small problem) until the JIT has compiled nothing for half a second, at least <paramref name="calls"/> times
    /// and for at most 10 s.</summary>
    /// <returns>The methods compiled meanwhile.</returns>
    public static long SettleJit(Action smallCall, int calls = 100)
    {
        long first = CompiledMethods, seen = first;
        long start = Stopwatch.GetTimestamp(), quietSince = start;
        for (int i = 0; ; i++)
        {
            smallCall();
            long now = CompiledMethods;
            if (now != seen)
            {
                seen = now;
                quietSince = Stopwatch.GetTimestamp();
            }
            if (i >= calls && Stopwatch.GetElapsedTime(quietSince).TotalSeconds >= 0.5 || Stopwatch.GetElapsedTime(start).TotalSeconds >= 10)
                return seen - first;
        }
    }

    /// <summary>Methods the JIT has compiled in this process so far: the benchmarks report how many it compiled during
    /// their timed runs.</summary>
    public static long CompiledMethods => JitInfo.GetCompiledMethodCount();

    /// <summary>Returns once this process has used less than 1 ms of CPU over 10 ms, or after a second: the
    /// other side's worker threads have stopped spinning. ONNX Runtime's intra-op workers spin for 40–50 ms
    /// after a run and OpenBLAS's after a call, and a two-thread run that starts while one of them spins
    /// has one core, not two. The process clock advances in scheduler ticks (4 ms here), so a shorter
    /// window can miss a spinning thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

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
}

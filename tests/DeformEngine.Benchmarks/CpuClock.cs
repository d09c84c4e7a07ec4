using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DeformEngine.Benchmarks;

/// <summary>CPU time of the calling thread and of the whole process (Linux clock_gettime). On a
/// machine shared with other work, a single-threaded run's thread CPU time leaves out the time the
/// thread spent preempted, which wall-clock time does not.</summary>
public static partial class CpuClock
{
    private const int ProcessCpuTimeId = 2;
    private const int ThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>Whether the clocks can be read here (Linux).</summary>
    public static bool IsAvailable { get; } = OperatingSystem.IsLinux();

    /// <summary>Seconds of CPU time the calling thread has used.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Thread() => Read(ThreadCpuTimeId);

    /// <summary>Seconds of CPU time all threads of this process have used.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Process() => Read(ProcessCpuTimeId);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Read(int clock)
    {
        if (!IsAvailable || ClockGetTime(clock, out var time) != 0)
            return double.NaN;
        return time.Seconds + time.Nanoseconds * 1e-9;
    }
}

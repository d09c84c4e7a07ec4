using System.Runtime.InteropServices;

namespace DeformEngine.Benchmarks;

/// <summary>Minor page faults of this process so far (Linux getrusage): a fresh array is faulted in page
/// by page on first touch, so faults counted around a call show the memory it took afresh.</summary>
public static partial class PageFaults
{
    private const int Self = 0;

    /// <summary>struct rusage: two timevals (4 longs), then ru_maxrss, ru_ixrss, ru_idrss, ru_isrss,
    /// ru_minflt, … (14 longs).</summary>
    private const int Longs = 18, MinorFaultIndex = 8;

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, [Out] long[] usage);

    public static bool IsAvailable { get; } = OperatingSystem.IsLinux();

    public static long Minor()
    {
        if (!IsAvailable)
            return 0;
        var usage = new long[Longs];
        return GetRusage(Self, usage) == 0 ? usage[MinorFaultIndex] : 0;
    }
}

using System.Runtime.InteropServices;

namespace DeformEngine.Cpu;

/// <summary>Which processor a thread runs on, and moving a worker off one (Linux; elsewhere, or where libc
/// cannot be called, nothing: −1 and false).</summary>
/// <remarks>On the 2-vCPU VM of docs/benchmarks.md a third to a half of the two-thread forwards that started
/// from an idle process ran with the caller and its helper taking turns on one vCPU for the whole call while
/// the other vCPU sat idle (process CPU time equal to wall time, the caller's own CPU time 3.5 of 8.5 ms, no
/// steal). <see cref="CpuWorkers"/> therefore has a helper that finds itself on the caller's processor move
/// off it (<see cref="MoveOff"/>).</remarks>
internal static unsafe partial class ThreadPlacement
{
    /// <summary>Processors an affinity mask passed to the kernel can name.</summary>
    private const int MaskWords = 16;

    private static bool s_unavailable = !OperatingSystem.IsLinux();

    /// <summary>The processor the calling thread runs on now, or −1 where that is not known.</summary>
    public static int CurrentProcessor()
    {
        if (s_unavailable)
            return -1;
        try
        {
            return sched_getcpu();
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return -1;
        }
    }

    /// <summary>Moves the calling thread to another processor it may run on: its affinity is narrowed to
    /// exclude <paramref name="processor"/> (the kernel migrates it at once) and then set back to what it was,
    /// which leaves it where it landed. Returns whether it moved.</summary>
    public static bool MoveOff(int processor)
    {
        if (processor < 0 || processor >= MaskWords * 64)
            return false;
        ulong* mask = stackalloc ulong[MaskWords];
        ulong* others = stackalloc ulong[MaskWords];
        if (!Affinity(mask, set: false))
            return false;
        bool any = false;
        for (int i = 0; i < MaskWords; i++)
        {
            others[i] = i == processor / 64 ? mask[i] & ~(1UL << (processor % 64)) : mask[i];
            any |= others[i] != 0;
        }
        if (!any || !Affinity(others, set: true))
            return false;
        Affinity(mask, set: true);
        return true;
    }

    /// <summary>Whether the calling thread may set its own affinity here (setting it to what it is): a sandbox
    /// may refuse, and then <see cref="MoveOff"/> never moves.</summary>
    internal static bool CanSetAffinity()
    {
        ulong* mask = stackalloc ulong[MaskWords];
        return Affinity(mask, set: false) && Affinity(mask, set: true);
    }

    /// <summary>How many processors the calling thread may run on (−1 where that is not known).</summary>
    internal static int AllowedProcessors()
    {
        ulong* mask = stackalloc ulong[MaskWords];
        if (!Affinity(mask, set: false))
            return -1;
        int count = 0;
        for (int i = 0; i < MaskWords; i++)
            count += System.Numerics.BitOperations.PopCount(mask[i]);
        return count;
    }

    /// <summary>Reads the calling thread's affinity into <paramref name="mask"/>, or sets it from there; false
    /// where the kernel refuses or libc cannot be called.</summary>
    private static bool Affinity(ulong* mask, bool set)
    {
        if (s_unavailable)
            return false;
        nint bytes = MaskWords * sizeof(ulong);
        try
        {
            return (set ? sched_setaffinity(0, bytes, mask) : sched_getaffinity(0, bytes, mask)) == 0;
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return false;
        }
    }

    [LibraryImport("libc")]
    private static partial int sched_getcpu();

    [LibraryImport("libc")]
    private static partial int sched_getaffinity(int pid, nint size, ulong* mask);

    [LibraryImport("libc")]
    private static partial int sched_setaffinity(int pid, nint size, ulong* mask);
}

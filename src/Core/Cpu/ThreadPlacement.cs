using System.Runtime.InteropServices;

namespace DeformEngine.Cpu;

/// <summary>Which processor a thread runs on, moving a worker off one, and keeping a sleeping worker from being
/// woken onto one (Linux; elsewhere, or where libc cannot be called, nothing: −1 and false).</summary>
/// <remarks>On the 2-vCPU VM of docs/benchmarks.md a third to a half of the two-thread forwards that started
/// from an idle process ran with the caller and its helper taking turns on one vCPU for the whole call while
/// the other vCPU sat idle (process CPU time equal to wall time, the caller's own CPU time 3.5 of 8.5 ms, no
/// steal). <see cref="CpuWorkers"/> therefore has a helper that finds itself on the caller's processor move
/// off it (<see cref="MoveOff"/>), and wakes a sleeping helper with the caller's processor taken out of its affinity
/// (<see cref="SteerAway"/>), which it puts back once awake (<see cref="SetAffinity"/>).</remarks>
internal static unsafe partial class ThreadPlacement
{
    /// <summary>Words (64 processors each) of an affinity mask passed to the kernel, and of the masks
    /// <see cref="ReadAffinity"/> reads.</summary>
    public const int MaskWords = 16;

    private static bool s_unavailable = !OperatingSystem.IsLinux();

    /// <summary>The processor the calling thread runs on now, or −1 where that is not known.</summary>
    public static int CurrentProcessor() => Ask(&sched_getcpu);

    /// <summary>The calling thread's kernel thread id, or −1 where that is not known.</summary>
    public static int CurrentThreadId() => Ask(&gettid);

    /// <summary>What a libc query returns, or −1 where libc cannot be called.</summary>
    private static int Ask(delegate*<int> query)
    {
        if (s_unavailable)
            return -1;
        try
        {
            return query();
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
        if (!Affinity(mask, set: false) || !Without(mask, processor, others) || !Affinity(others, set: true))
            return false;
        Affinity(mask, set: true);
        return true;
    }

    /// <summary>Reads the calling thread's affinity into <paramref name="mask"/> (<see cref="MaskWords"/> long);
    /// false where it is not known.</summary>
    public static bool ReadAffinity(ulong[] mask)
    {
        if (mask.Length != MaskWords)
            return false;
        fixed (ulong* words = mask)
            return Affinity(words, set: false);
    }

    /// <summary>Sets thread <paramref name="thread"/>'s affinity to <paramref name="allowed"/> (its own, as
    /// <see cref="ReadAffinity"/> read it) without <paramref name="processor"/>; the thread puts <paramref name="allowed"/>
    /// back with <see cref="SetAffinity"/>. A sleeping thread woken after this starts on another processor: the kernel
    /// places it within its affinity at the wake-up. Returns false, and changes nothing, where the processor or the
    /// thread is not known, no other processor is allowed, or the kernel refuses.</summary>
    public static bool SteerAway(int thread, int processor, ulong[] allowed)
    {
        if (thread <= 0 || processor < 0 || processor >= MaskWords * 64 || allowed.Length != MaskWords)
            return false;
        ulong* others = stackalloc ulong[MaskWords];
        fixed (ulong* mask = allowed)
            return Without(mask, processor, others) && Affinity(others, set: true, thread);
    }

    /// <summary><paramref name="mask"/> without <paramref name="processor"/> into <paramref name="others"/>; whether any
    /// processor is left.</summary>
    private static bool Without(ulong* mask, int processor, ulong* others)
    {
        bool any = false;
        for (int i = 0; i < MaskWords; i++)
        {
            others[i] = i == processor / 64 ? mask[i] & ~(1UL << (processor % 64)) : mask[i];
            any |= others[i] != 0;
        }
        return any;
    }

    /// <summary>Sets the calling thread's affinity to <paramref name="mask"/>.</summary>
    public static bool SetAffinity(ulong[] mask)
    {
        if (mask.Length != MaskWords)
            return false;
        fixed (ulong* words = mask)
            return Affinity(words, set: true);
    }

    /// <summary>Whether thread <paramref name="thread"/> may run on <paramref name="processor"/> (false where not known).</summary>
    internal static bool Allows(int thread, int processor)
    {
        ulong* mask = stackalloc ulong[MaskWords];
        return thread > 0 && processor >= 0 && processor < MaskWords * 64 && Affinity(mask, set: false, thread)
            && (mask[processor / 64] & (1UL << (processor % 64))) != 0;
    }

    /// <summary>Whether the calling thread may set its own affinity here (setting it to what it is): a sandbox
    /// may refuse, and then <see cref="MoveOff"/> never moves.</summary>
    internal static bool CanSetAffinity()
    {
        ulong* mask = stackalloc ulong[MaskWords];
        return Affinity(mask, set: false) && Affinity(mask, set: true);
    }

    /// <summary>How many processors thread <paramref name="thread"/> (0: the calling thread) may run on (−1 where that
    /// is not known).</summary>
    internal static int AllowedProcessors(int thread = 0)
    {
        ulong* mask = stackalloc ulong[MaskWords];
        if (thread < 0 || !Affinity(mask, set: false, thread))
            return -1;
        int count = 0;
        for (int i = 0; i < MaskWords; i++)
            count += System.Numerics.BitOperations.PopCount(mask[i]);
        return count;
    }

    /// <summary>Reads the affinity of <paramref name="thread"/> (0: the calling thread) into <paramref name="mask"/>,
    /// or sets it from there; false where the kernel refuses or libc cannot be called.</summary>
    private static bool Affinity(ulong* mask, bool set, int thread = 0)
    {
        if (s_unavailable)
            return false;
        nint bytes = MaskWords * sizeof(ulong);
        try
        {
            return (set ? sched_setaffinity(thread, bytes, mask) : sched_getaffinity(thread, bytes, mask)) == 0;
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return false;
        }
    }

    [LibraryImport("libc")]
    private static partial int gettid();

    [LibraryImport("libc")]
    private static partial int sched_getcpu();

    [LibraryImport("libc")]
    private static partial int sched_getaffinity(int pid, nint size, ulong* mask);

    [LibraryImport("libc")]
    private static partial int sched_setaffinity(int pid, nint size, ulong* mask);
}

namespace DeformEngine;

/// <summary>Process-wide knobs of the CPU backend.</summary>
public static class EngineOptions
{
    private static int _threads = Environment.ProcessorCount;
    private static long _workspaceBytes = 64L << 20;

    /// <summary>Threads the CPU kernels may use. Results do not depend on it: partitions and
    /// reduction orders are fixed.</summary>
    public static int Threads
    {
        get => _threads;
        set => _threads = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Threads must be at least 1.");
    }

    /// <summary>When true, operators run their plain reference loops instead of the fast kernels.</summary>
    public static bool UseReferenceKernels { get; set; }

    /// <summary>Upper bound, in bytes, of the scratch (column) buffer one operator call may hold.</summary>
    public static long WorkspaceBytes
    {
        get => _workspaceBytes;
        set => _workspaceBytes = value >= 1 << 16
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "WorkspaceBytes must be at least 65536.");
    }

}

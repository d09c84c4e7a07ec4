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

    private static TimeSpan _workerSpinTime = TimeSpan.FromMilliseconds(20);

    /// <summary>How long a worker thread that finished a parallel loop keeps looking for the next one before
    /// it sleeps (default 20 ms; 0 to 1 s). The first half millisecond it spins, then it yields the core
    /// between looks, so other threads that want it get it. A worker that sleeps has to be woken, and on a
    /// virtual machine a quarter of the wake-ups took 1–4 ms (often with the woken thread placed on the
    /// caller's own core, where the two took turns). On the 2-vCPU machine of docs/benchmarks.md a
    /// DeformConv2d forward at N1 C256 28×28 called every 1–10 ms took a median 4.0–4.7 ms with a 0.5 ms spin
    /// and 3.6–3.7 ms with 20 ms (3.6 back to back). Set it lower where idle cores should stay idle between
    /// sparse calls; ONNX Runtime and OpenBLAS keep their workers spinning in the same way.</summary>
    public static TimeSpan WorkerSpinTime
    {
        get => _workerSpinTime;
        set => _workerSpinTime = value >= TimeSpan.Zero && value <= TimeSpan.FromSeconds(1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "WorkerSpinTime must be between 0 and 1 second.");
    }

    /// <summary>Upper bound, in bytes, of the scratch (column) buffer one operator call may hold.</summary>
    public static long WorkspaceBytes
    {
        get => _workspaceBytes;
        set => _workspaceBytes = value >= 1 << 16
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "WorkspaceBytes must be at least 65536.");
    }

}

namespace DeformEngine.Gpu;

/// <summary>One entry point of a <see cref="GpuProgram"/>.</summary>
public sealed class GpuKernel
{
    /// <summary>
    /// Work-items per group unless told otherwise: a multiple of the warp (32) and of AMD's
    /// wavefront (64), and within every device's limit that this engine targets.
    /// </summary>
    public const int DefaultLocalSize = 256;

    internal GpuKernel(GpuProgram program, string name, nint handle)
    {
        Program = program;
        Name = name;
        Handle = handle;
    }

    public GpuProgram Program { get; }

    public string Name { get; }

    /// <summary>The cl_kernel or CUfunction.</summary>
    internal nint Handle { get; }

    /// <summary>Held by backends whose kernel objects carry their arguments (OpenCL) between set and enqueue.</summary>
    internal Lock LaunchGate { get; } = new();

    /// <summary>
    /// Runs <paramref name="globalSize"/> work-items, rounded up to whole groups of
    /// <paramref name="localSize"/>; kernels therefore check their index against the real size.
    /// </summary>
    public void Launch(long globalSize, ReadOnlySpan<KernelArg> arguments, int localSize = DefaultLocalSize) =>
        Program.Context.Launch(this, globalSize, arguments, localSize);
}

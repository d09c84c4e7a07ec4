using ILGPU.Runtime.CPU;

namespace DeformEngine.Gpu;

/// <summary>
/// ILGPU's CPU accelerator as a device: it runs this library's GPU kernels as .NET code, on CPU threads that
/// simulate the threads of a GPU group, with shared memory, barriers and atomics. Slow (for tests and debugging:
/// the same kernels, launches and fixed-point scatters as on a GPU, without one). Every launch is a grid-stride
/// loop over a few groups, so its cost is the kernels' own work plus the barriers of the GEMM tiles, which are
/// slow here (an OS-thread rendezvous): small groups keep them cheap.
/// </summary>
public sealed class CpuAcceleratorDevice : GpuDevice
{
    private CpuAcceleratorDevice(CPUAccelerator accelerator, int groupSize, int processors)
        : base(accelerator, GpuBackend.CpuAccelerator, "cpu-accelerator", 0,
            $"ILGPU CPU accelerator, {processors} × {groupSize} threads", supportsDouble: true, groupSize, groupsPerMultiprocessor: 1)
    {
    }

    /// <summary>Opens a CPU accelerator simulating <paramref name="processors"/> multiprocessors (0: one per CPU
    /// core) of groups of up to <paramref name="groupSize"/> threads.</summary>
    /// <param name="groupSize">Threads per group, a power of two from 2 to 256 (GPUs use 256; 4 keeps the
    /// simulated barriers cheap). The GEMM tile is the largest square of threads that fits.</param>
    /// <param name="processors">Simulated multiprocessors, each running one group at a time on its own threads.</param>
    public static CpuAcceleratorDevice Open(int groupSize = 4, int processors = 0)
    {
        if (groupSize < 2 || groupSize > 256 || (groupSize & (groupSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, "groupSize must be a power of two from 2 to 256.");
        ArgumentOutOfRangeException.ThrowIfNegative(processors);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(processors, 256);
        if (processors == 0) processors = Environment.ProcessorCount;
        var device = new CPUDevice(groupSize, 1, processors);
        return new CpuAcceleratorDevice(device.CreateCPUAccelerator(GpuRuntime.Context, CPUAcceleratorMode.Parallel), groupSize, processors);
    }

    /// <summary>True: the CPU accelerator has the 64-bit integer atomics that <see cref="GpuDevice.Deterministic"/>
    /// needs.</summary>
    public override bool SupportsDeterministic => true;
}

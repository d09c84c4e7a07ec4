namespace DeformEngine.Gpu;

/// <summary>The ILGPU back ends a <see cref="GpuDevice"/> can sit on.</summary>
public enum GpuBackend
{
    /// <summary>OpenCL devices (GPUs of any vendor, or a CPU runtime such as PoCL).</summary>
    OpenCL,
    /// <summary>NVIDIA GPUs through the CUDA driver.</summary>
    Cuda,

    /// <summary>ILGPU's CPU accelerator: the GPU kernels run as .NET code on CPU threads that simulate GPU
    /// threads (slow; for tests and debugging).</summary>
    CpuAccelerator,
}

/// <summary>Which code a device's matrix products run on.</summary>
public enum GpuGemm
{
    /// <summary>This library's tiled GEMM kernel (every device).</summary>
    TiledKernel,

    /// <summary>NVIDIA's cuBLAS through ILGPU.Algorithms (CUDA devices where libcublas is found).</summary>
    CuBlas,
}

/// <summary>One device as a back end reports it.</summary>
/// <param name="Backend">The back end that reports the device.</param>
/// <param name="Index">The index to pass to <c>Open</c> of that back end's device class.</param>
/// <param name="Name">The device name.</param>
/// <param name="Vendor">The device vendor.</param>
/// <param name="MemoryBytes">Global memory in bytes.</param>
/// <param name="SupportsDouble">Double arithmetic and the 64-bit atomics the double atomic add needs.</param>
public sealed record GpuDeviceInfo(GpuBackend Backend, int Index, string Name, string Vendor, long MemoryBytes, bool SupportsDouble);

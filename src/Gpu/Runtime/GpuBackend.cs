namespace DeformEngine.Gpu;

/// <summary>The native runtimes a <see cref="GpuContext"/> can sit on.</summary>
public enum GpuBackend
{
    OpenCL,
    Cuda,
}

namespace DeformEngine.Gpu;

/// <summary>An NVIDIA GPU through the CUDA driver API, its kernels compiled by NVRTC.</summary>
public sealed class CudaDevice : GpuDevice
{
    private CudaDevice(CudaContext context, int index)
        : base(context, "cuda", index)
    {
    }

    /// <summary>Opens device <paramref name="index"/> of <see cref="ListDevices"/>.</summary>
    /// <exception cref="NotSupportedException">No CUDA driver, no such device, or no usable NVRTC.</exception>
    public static CudaDevice Open(int index = 0) => new(CudaContext.Open(index), index);

    /// <summary>Every CUDA device on this machine; empty when there is no driver or no device.</summary>
    public static new IReadOnlyList<GpuDeviceInfo> ListDevices() => CudaContext.ListDevices();

    /// <summary>64-bit integer atomicAdd exists on every GPU current toolkits target.</summary>
    public override bool SupportsDeterministic => true;
}

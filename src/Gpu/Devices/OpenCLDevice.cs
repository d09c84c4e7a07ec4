namespace DeformEngine.Gpu;

/// <summary>An OpenCL device (a GPU, or a CPU through PoCL) as a tensor device.</summary>
public sealed class OpenCLDevice : GpuDevice
{
    private OpenCLDevice(OpenCLContext context, int index)
        : base(context, "opencl", index)
    {
    }

    /// <summary>Opens device <paramref name="index"/> of <see cref="ListDevices"/>.</summary>
    /// <exception cref="NotSupportedException">No OpenCL runtime, no platform, or no such device.</exception>
    public static OpenCLDevice Open(int index = 0) => new(OpenCLContext.Open(index), index);

    /// <summary>Every OpenCL device on this machine; empty when there is no runtime or no device.</summary>
    public static new IReadOnlyList<GpuDeviceInfo> ListDevices() => OpenCLContext.ListDevices();

    public override bool SupportsDeterministic => ((OpenCLContext)Context).SupportsInt64Atomics;
}

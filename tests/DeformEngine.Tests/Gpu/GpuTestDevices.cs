using DeformEngine.Gpu;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>
/// The devices of the GPU backends for the GPU-specific tests, by backend name ("cpu-accelerator", "opencl",
/// "cuda"), or an inconclusive result with the reason. The devices come from <see cref="TestBackends"/>, which
/// the operator tests share: one device per backend for the whole run; tests that change device state
/// (deterministic mode, disposal) open their own.
/// </summary>
internal static class GpuTestDevices
{
    /// <summary>The process-wide device of <paramref name="backend"/>; "CPU" gives <see cref="Device.Cpu"/>.</summary>
    public static Device Shared(string backend) => backend == "CPU" ? Device.Cpu : TestBackends.SharedDevice(backend);

    /// <summary>Like <see cref="Shared(string)"/>, and inconclusive when <typeparamref name="T"/> is double
    /// and the device cannot compute in it.</summary>
    public static Device Shared<T>(string backend)
    {
        var device = Shared(backend);
        RequirePrecision<T>(device);
        return device;
    }

    /// <summary>A device of its own for the caller to dispose.</summary>
    public static GpuDevice OpenNew(string backend) => TestBackends.OpenNewDevice(backend);

    public static void RequirePrecision<T>(Device device) => TestBackends.RequirePrecision<T>(device);
}

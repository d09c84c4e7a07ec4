using System.Runtime.InteropServices;
using ILGPU.Runtime.OpenCL;

namespace DeformEngine.Gpu;

/// <summary>
/// An OpenCL device through ILGPU's OpenCL back end. ILGPU accepts devices with OpenCL C 2.0 or later and the
/// generic address space (AMD and Intel GPUs). NVIDIA's OpenCL and CPU implementations such as PoCL do not qualify;
/// NVIDIA GPUs run through <see cref="CudaDevice"/>.
/// </summary>
public sealed class OpenCLDevice : GpuDevice
{
    private const int GroupSizeOnGpus = 256;
    private const int GroupsPerMultiprocessor = 16;

    private OpenCLDevice(CLAccelerator accelerator, int index)
        : base(accelerator, GpuBackend.OpenCL, "opencl", index, accelerator.Name, SupportsDoubleOn(accelerator.Capabilities),
            Math.Min(GroupSizeOnGpus, accelerator.MaxNumThreadsPerGroup), GroupsPerMultiprocessor)
    {
        SupportsDeterministic = accelerator.Capabilities.Int64_Atomics;
    }

    /// <summary>Opens device <paramref name="index"/> of <see cref="ListDevices"/>.</summary>
    /// <exception cref="NotSupportedException">No OpenCL runtime, no device ILGPU accepts, or no such device.</exception>
    public static OpenCLDevice Open(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        IReadOnlyList<CLDevice> devices = Devices();
        if (devices.Count == 0) throw new NotSupportedException(WhyNoDevice());
        if (index >= devices.Count)
            throw new NotSupportedException($"OpenCL device {index} was requested but only {devices.Count} that ILGPU accepts exist.");
        return new OpenCLDevice(devices[index].CreateCLAccelerator(GpuRuntime.Context), index);
    }

    /// <summary>Every OpenCL device ILGPU accepts; empty when there is no runtime or no such device.</summary>
    public static new IReadOnlyList<GpuDeviceInfo> ListDevices() =>
        [.. Devices().Select((d, i) => new GpuDeviceInfo(GpuBackend.OpenCL, i, d.Name, d.VendorName, d.MemorySize, SupportsDoubleOn(d.Capabilities)))];

    /// <summary>The 64-bit integer atomics of cl_khr_int64_base_atomics.</summary>
    public override bool SupportsDeterministic { get; }

    // Double arithmetic, and the 64-bit compare-and-swap that ILGPU's double atomic add is built on.
    private static bool SupportsDoubleOn(CLCapabilityContext capabilities) =>
        capabilities.Float64 && capabilities.Int64_Atomics;

    private static IReadOnlyList<CLDevice> Devices()
    {
        try
        {
            return GpuRuntime.OpenCLDevices;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            return [];
        }
    }

    /// <summary>What is missing: the runtime, any device, or a device ILGPU accepts (naming the refused ones).</summary>
    private static string WhyNoDevice()
    {
        if (!NativeLibrary.TryLoad("libOpenCL.so.1", out _) && !NativeLibrary.TryLoad("libOpenCL.so", out _) && !NativeLibrary.TryLoad("OpenCL", out _))
            return "No OpenCL runtime: libOpenCL.so.1 could not be loaded.";
        IReadOnlyList<CLDevice> all;
        try
        {
            all = CLDevice.GetDevices(_ => true).OfType<CLDevice>().ToList();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return $"The OpenCL runtime could not be queried: {e.Message}";
        }
        if (all.Count == 0) return "No OpenCL platform reports a device (the ICD loader found no vendor driver).";
        string refused = string.Join("; ", all.Select(d =>
            $"'{d.Name}' ({d.PlatformName}: OpenCL C {d.CVersion.Major}.{d.CVersion.Minor}, generic address space {(d.Capabilities.GenericAddressSpace ? "yes" : "no")})"));
        return $"No OpenCL device that ILGPU accepts (it needs OpenCL C 2.0 or later with the generic address space, as AMD and "
            + $"Intel GPUs have; NVIDIA GPUs run through CudaDevice). Refused: {refused}.";
    }
}

using System.Text;
using DeformEngine.Gpu.Native;
using static DeformEngine.Gpu.Native.Cuda;

namespace DeformEngine.Gpu;

/// <summary>
/// A CUDA device through its primary context (the one the runtime API and PyTorch share) and
/// the legacy default stream, so work runs in issue order and host copies wait for it.
/// </summary>
public sealed unsafe class CudaContext : GpuContext
{
    private static readonly Lock NvrtcGate = new();
    private static Nvrtc? nvrtc;

    private readonly int device;
    private readonly nint context;
    private readonly int architecture;
    private readonly Nvrtc compiler;

    private CudaContext(int device, nint context, string name, int architecture, int maxLocalSize, Nvrtc compiler)
    {
        this.device = device;
        this.context = context;
        this.architecture = architecture;
        this.compiler = compiler;
        Name = name;
        MaxLocalSize = maxLocalSize;
    }

    public override GpuBackend Backend => GpuBackend.Cuda;

    public override string Name { get; }

    /// <summary>Double atomicAdd exists from compute capability 6.0, the oldest that current toolkits target.</summary>
    public override bool SupportsDouble => architecture >= 60;

    public override int MaxLocalSize { get; }

    /// <summary>Compute capability as major·10 + minor, e.g. 90 for an H100.</summary>
    public int ComputeCapability => architecture;

    /// <summary>The NVRTC library file this context compiles with.</summary>
    public string CompilerPath => compiler.Path;

    /// <summary>Opens device <paramref name="index"/> and loads NVRTC, so a context can always compile.</summary>
    /// <exception cref="NotSupportedException">No CUDA driver, no such device, or no usable NVRTC.</exception>
    public static CudaContext Open(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        int count = DeviceCount();
        if (index >= count)
            throw new NotSupportedException($"CUDA device {index} was requested but only {count} exist.");
        int device;
        CudaException.Check(cuDeviceGet(&device, index), "cuDeviceGet");
        int architecture = 10 * Attribute(device, AttributeComputeCapabilityMajor) + Attribute(device, AttributeComputeCapabilityMinor);
        int maxLocalSize = Attribute(device, AttributeMaxThreadsPerBlock);
        string name = DeviceName(device);
        Nvrtc compiler = LoadNvrtc();
        // Retained last, so a failure above leaves nothing to release.
        nint context;
        CudaException.Check(cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
        return new CudaContext(device, context, name, architecture, maxLocalSize, compiler);
    }

    /// <summary>Every CUDA device; empty when there is no driver or no device.</summary>
    public static IReadOnlyList<GpuDeviceInfo> ListDevices()
    {
        try
        {
            var devices = new List<GpuDeviceInfo>();
            for (int index = 0, count = DeviceCount(); index < count; index++)
            {
                int device;
                nuint memory;
                CudaException.Check(cuDeviceGet(&device, index), "cuDeviceGet");
                CudaException.Check(cuDeviceTotalMem_v2(&memory, device), "cuDeviceTotalMem_v2");
                bool supportsDouble = Attribute(device, AttributeComputeCapabilityMajor) >= 6;
                devices.Add(new GpuDeviceInfo(GpuBackend.Cuda, index, DeviceName(device), "NVIDIA", (long)memory, supportsDouble));
            }
            return devices;
        }
        catch (Exception e) when (e is NotSupportedException or CudaException)
        {
            return [];
        }
    }

    /// <summary>Free and total device memory in bytes, as the driver sees them now.</summary>
    public (long Free, long Total) MemoryInfo()
    {
        MakeCurrent();
        nuint free, total;
        CudaException.Check(cuMemGetInfo_v2(&free, &total), "cuMemGetInfo_v2");
        return ((long)free, (long)total);
    }

    /// <summary>
    /// Device time in milliseconds of the work <paramref name="issue"/> enqueues, measured with
    /// events on the default stream (host overhead between launches is not counted).
    /// </summary>
    public float TimeMilliseconds(Action issue)
    {
        ArgumentNullException.ThrowIfNull(issue);
        MakeCurrent();
        nint start = 0, end = 0;
        try
        {
            CudaException.Check(cuEventCreate(&start, 0), "cuEventCreate");
            CudaException.Check(cuEventCreate(&end, 0), "cuEventCreate");
            CudaException.Check(cuEventRecord(start, 0), "cuEventRecord");
            issue();
            MakeCurrent();
            CudaException.Check(cuEventRecord(end, 0), "cuEventRecord");
            CudaException.Check(cuEventSynchronize(end), "cuEventSynchronize");
            float milliseconds;
            CudaException.Check(cuEventElapsedTime(&milliseconds, start, end), "cuEventElapsedTime");
            return milliseconds;
        }
        finally
        {
            if (start != 0)
                cuEventDestroy_v2(start);
            if (end != 0)
                cuEventDestroy_v2(end);
        }
    }

    private static int DeviceCount()
    {
        int status;
        try
        {
            status = cuInit(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new NotSupportedException($"The CUDA driver (libcuda.so.1) could not be loaded: {e.Message}", e);
        }
        // Typical here: CUDA_ERROR_NO_DEVICE, or CUDA_ERROR_STUB_LIBRARY in a container without a GPU.
        if (status != Success)
            throw new NotSupportedException($"cuInit failed: {CudaException.NameOf(status)} ({status}).");
        int count;
        CudaException.Check(cuDeviceGetCount(&count), "cuDeviceGetCount");
        if (count == 0)
            throw new NotSupportedException("The CUDA driver reports no device.");
        return count;
    }

    private static Nvrtc LoadNvrtc()
    {
        lock (NvrtcGate)
        {
            if (nvrtc is null)
            {
                int version;
                CudaException.Check(cuDriverGetVersion(&version), "cuDriverGetVersion");
                nvrtc = Nvrtc.Load(version / 1000);
            }
            return nvrtc;
        }
    }

    private static int Attribute(int device, int attribute)
    {
        int value;
        CudaException.Check(cuDeviceGetAttribute(&value, attribute, device), $"cuDeviceGetAttribute({attribute})");
        return value;
    }

    private static string DeviceName(int device)
    {
        byte* name = stackalloc byte[256];
        CudaException.Check(cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        return Encoding.UTF8.GetString(new ReadOnlySpan<byte>(name, 256)).TrimEnd('\0');
    }

    // The current context is per thread; callers may arrive on any thread (Parallel.For, tests).
    private void MakeCurrent() => CudaException.Check(cuCtxSetCurrent(context), "cuCtxSetCurrent");

    private protected override nint AllocateCore(long bytes)
    {
        MakeCurrent();
        ulong pointer;
        int status = cuMemAlloc_v2(&pointer, (nuint)bytes);
        if (status != Success)
            throw new CudaException(status, CudaException.NameOf(status), $"cuMemAlloc_v2 of {bytes} bytes on '{Name}'");
        return (nint)pointer;
    }

    // Release statuses are not checked: Dispose must not throw, and nothing could be retried.
    private protected override void FreeCore(nint buffer)
    {
        cuCtxSetCurrent(context);
        cuMemFree_v2((ulong)buffer);
    }

    private protected override void UploadCore(nint destination, long byteOffset, void* source, long bytes)
    {
        MakeCurrent();
        CudaException.Check(cuMemcpyHtoD_v2((ulong)destination + (ulong)byteOffset, source, (nuint)bytes), "cuMemcpyHtoD_v2");
    }

    private protected override void DownloadCore(nint source, long byteOffset, void* destination, long bytes)
    {
        MakeCurrent();
        CudaException.Check(cuMemcpyDtoH_v2(destination, (ulong)source + (ulong)byteOffset, (nuint)bytes), "cuMemcpyDtoH_v2");
    }

    private protected override void ZeroCore(nint buffer, long bytes)
    {
        MakeCurrent();
        // 32-bit stores are faster; allocations are 256-byte aligned, so only the size decides.
        int status = bytes % 4 == 0
            ? cuMemsetD32_v2((ulong)buffer, 0, (nuint)(bytes / 4))
            : cuMemsetD8_v2((ulong)buffer, 0, (nuint)bytes);
        CudaException.Check(status, "cuMemsetD32_v2/cuMemsetD8_v2");
    }

    private protected override void CopyCore(nint source, nint destination, long bytes)
    {
        MakeCurrent();
        CudaException.Check(cuMemcpyDtoD_v2((ulong)destination, (ulong)source, (nuint)bytes), "cuMemcpyDtoD_v2");
    }

    private protected override nint CompileCore(string sourceName, string text)
    {
        byte[] image = compiler.Compile(sourceName, text, architecture);
        MakeCurrent();
        nint module;
        fixed (byte* pointer = image)
            CudaException.Check(cuModuleLoadData(&module, pointer), $"cuModuleLoadData('{sourceName}')");
        return module;
    }

    private protected override void ReleaseProgramCore(nint program)
    {
        cuCtxSetCurrent(context);
        cuModuleUnload(program);
    }

    private protected override nint CreateKernelCore(nint program, string name)
    {
        MakeCurrent();
        nint function;
        CudaException.Check(cuModuleGetFunction(&function, program, name), $"cuModuleGetFunction('{name}')");
        return function;
    }

    // A CUfunction belongs to its module and goes with cuModuleUnload.
    private protected override void ReleaseKernelCore(nint kernel)
    {
    }

    private protected override void LaunchCore(GpuKernel kernel, int groups, int localSize, ReadOnlySpan<KernelArg> arguments)
    {
        MakeCurrent();
        // kernelParams holds one pointer per argument to its value; every value fits 8 bytes,
        // and the driver reads only the parameter's own size from the low end of its slot.
        long* values = stackalloc long[Math.Max(arguments.Length, 1)];
        void** parameters = stackalloc void*[Math.Max(arguments.Length, 1)];
        for (int i = 0; i < arguments.Length; i++)
        {
            values[i] = arguments[i].Buffer is { } buffer ? buffer.Handle : arguments[i].Bits;
            parameters[i] = &values[i];
        }
        int status = cuLaunchKernel(kernel.Handle, (uint)groups, 1, 1, (uint)localSize, 1, 1, 0, 0, parameters, null);
        CudaException.Check(status, $"cuLaunchKernel('{kernel.Name}', {groups} blocks of {localSize})");
    }

    private protected override void SynchronizeCore()
    {
        MakeCurrent();
        CudaException.Check(cuCtxSynchronize(), "cuCtxSynchronize");
    }

    private protected override void ReleaseContextCore() => cuDevicePrimaryCtxRelease_v2(device);
}

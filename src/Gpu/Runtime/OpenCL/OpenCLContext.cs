using System.Text;
using static DeformEngine.Gpu.Native.OpenCL;

namespace DeformEngine.Gpu;

/// <summary>An OpenCL device with one in-order command queue, so work runs in issue order.</summary>
public sealed unsafe class OpenCLContext : GpuContext
{
    // Kernels are written to OpenCL C 1.2; say so, rather than rely on each driver's default.
    private static readonly byte[] BuildOptions = Encoding.ASCII.GetBytes("-cl-std=CL1.2\0");

    private readonly nint device;
    private readonly nint context;
    private readonly nint queue;

    private OpenCLContext(nint device, nint context, nint queue)
    {
        this.device = device;
        this.context = context;
        this.queue = queue;
        Name = OpenCLDevices.String(device, DeviceName);
        PlatformName = OpenCLDevices.PlatformNameOf(device);
        SupportsDouble = OpenCLDevices.SupportsDouble(device);
        SupportsInt64Atomics = OpenCLDevices.HasExtension(device, "cl_khr_int64_base_atomics");
        MaxLocalSize = (int)Math.Min(OpenCLDevices.Number(device, DeviceMaxWorkGroupSize), int.MaxValue);
        MaxAllocationBytes = (long)OpenCLDevices.Number(device, DeviceMaxMemAllocSize);
    }

    public override GpuBackend Backend => GpuBackend.OpenCL;

    public override string Name { get; }

    /// <summary>The driver behind the device, e.g. "Portable Computing Language" (PoCL, a CPU) or "NVIDIA CUDA".</summary>
    public string PlatformName { get; }

    public override bool SupportsDouble { get; }

    public override int MaxLocalSize { get; }

    /// <summary>cl_khr_int64_base_atomics: what the deterministic fixed-point accumulation needs.</summary>
    public bool SupportsInt64Atomics { get; }

    /// <summary>CL_DEVICE_MAX_MEM_ALLOC_SIZE: the largest single buffer the device accepts.</summary>
    public long MaxAllocationBytes { get; }

    /// <summary>Opens device <paramref name="index"/> in <see cref="ListDevices"/> order.</summary>
    /// <exception cref="NotSupportedException">No OpenCL runtime, platform or such device.</exception>
    public static OpenCLContext Open(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        List<nint> devices = OpenCLDevices.Enumerate();
        if (index >= devices.Count)
            throw new NotSupportedException($"OpenCL device {index} was requested but only {devices.Count} exist.");
        nint device = devices[index];
        int status;
        nint context = clCreateContext(null, 1, &device, 0, 0, &status);
        OpenCLException.Check(status, "clCreateContext");
        nint queue;
        try
        {
            queue = clCreateCommandQueueWithProperties(context, device, null, &status);
        }
        catch (EntryPointNotFoundException e)
        {
            clReleaseContext(context);
            throw new NotSupportedException($"The OpenCL loader predates OpenCL 2.0: {e.Message}", e);
        }
        if (status != Success)
        {
            clReleaseContext(context);
            OpenCLException.Check(status, "clCreateCommandQueueWithProperties");
        }
        return new OpenCLContext(device, context, queue);
    }

    /// <summary>Every OpenCL device on this machine; empty when there is no runtime or no device.</summary>
    public static IReadOnlyList<GpuDeviceInfo> ListDevices()
    {
        try
        {
            List<nint> devices = OpenCLDevices.Enumerate();
            return devices.Select(OpenCLDevices.Describe).ToList();
        }
        catch (Exception e) when (e is NotSupportedException or OpenCLException)
        {
            return [];
        }
    }

    private protected override nint AllocateCore(long bytes)
    {
        int status;
        nint buffer = clCreateBuffer(context, MemReadWrite, (nuint)bytes, null, &status);
        if (status != Success)
            throw new OpenCLException(status, $"clCreateBuffer of {bytes} bytes on '{Name}' (largest allowed: {MaxAllocationBytes})");
        return buffer;
    }

    // Release statuses are not checked: Dispose must not throw, and nothing could be retried.
    private protected override void FreeCore(nint buffer) => clReleaseMemObject(buffer);

    private protected override void UploadCore(nint destination, long byteOffset, void* source, long bytes) =>
        OpenCLException.Check(clEnqueueWriteBuffer(queue, destination, 1, (nuint)byteOffset, (nuint)bytes, source, 0, null, null),
            "clEnqueueWriteBuffer");

    private protected override void DownloadCore(nint source, long byteOffset, void* destination, long bytes) =>
        OpenCLException.Check(clEnqueueReadBuffer(queue, source, 1, (nuint)byteOffset, (nuint)bytes, destination, 0, null, null),
            "clEnqueueReadBuffer");

    private protected override void ZeroCore(nint buffer, long bytes)
    {
        // A one-byte pattern because the size need not be a multiple of a wider one.
        byte zero = 0;
        OpenCLException.Check(clEnqueueFillBuffer(queue, buffer, &zero, 1, 0, (nuint)bytes, 0, null, null), "clEnqueueFillBuffer");
    }

    private protected override void CopyCore(nint source, nint destination, long bytes) =>
        OpenCLException.Check(clEnqueueCopyBuffer(queue, source, destination, 0, 0, (nuint)bytes, 0, null, null), "clEnqueueCopyBuffer");

    private protected override nint CompileCore(string sourceName, string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        int status;
        nint program;
        fixed (byte* pointer = utf8)
        {
            byte* strings = pointer;
            nuint length = (nuint)utf8.Length;
            program = clCreateProgramWithSource(context, 1, &strings, &length, &status);
        }
        OpenCLException.Check(status, $"clCreateProgramWithSource('{sourceName}')");
        nint target = device;
        fixed (byte* options = BuildOptions)
            status = clBuildProgram(program, 1, &target, options, 0, 0);
        if (status != Success)
        {
            string log = BuildLog(program);
            clReleaseProgram(program);
            throw new OpenCLException(status, $"building '{sourceName}' failed; build log:\n{log}");
        }
        return program;
    }

    private string BuildLog(nint program)
    {
        nuint size;
        if (clGetProgramBuildInfo(program, device, ProgramBuildLog, 0, null, &size) != Success || size <= 1)
            return "(empty build log)";
        var bytes = new byte[size];
        fixed (byte* log = bytes)
        {
            if (clGetProgramBuildInfo(program, device, ProgramBuildLog, size, log, null) != Success)
                return "(build log unavailable)";
        }
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    private protected override void ReleaseProgramCore(nint program) => clReleaseProgram(program);

    private protected override nint CreateKernelCore(nint program, string name)
    {
        int status;
        nint kernel = clCreateKernel(program, name, &status);
        OpenCLException.Check(status, $"clCreateKernel('{name}')");
        return kernel;
    }

    private protected override void ReleaseKernelCore(nint kernel) => clReleaseKernel(kernel);

    private protected override void LaunchCore(GpuKernel kernel, int groups, int localSize, ReadOnlySpan<KernelArg> arguments)
    {
        nuint local = (nuint)localSize;
        nuint global = (nuint)groups * local;
        // Arguments are state of the cl_kernel object: setting and enqueueing must not interleave
        // with another thread's launch of the same kernel.
        lock (kernel.LaunchGate)
        {
            for (int i = 0; i < arguments.Length; i++)
            {
                KernelArg argument = arguments[i];
                long value = argument.Buffer is { } buffer ? buffer.Handle : argument.Bits;
                int status = clSetKernelArg(kernel.Handle, (uint)i, (nuint)argument.Size, &value);
                OpenCLException.Check(status, $"clSetKernelArg('{kernel.Name}', argument {i}, {argument.Size} bytes)");
            }
            OpenCLException.Check(clEnqueueNDRangeKernel(queue, kernel.Handle, 1, null, &global, &local, 0, null, null),
                $"clEnqueueNDRangeKernel('{kernel.Name}', global {global}, local {local})");
        }
    }

    private protected override void SynchronizeCore() => OpenCLException.Check(clFinish(queue), "clFinish");

    private protected override void ReleaseContextCore()
    {
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }
}

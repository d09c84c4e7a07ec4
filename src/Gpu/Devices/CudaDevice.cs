using ILGPU.Runtime.Cuda;
using IlgpuCudaDevice = ILGPU.Runtime.Cuda.CudaDevice;

namespace DeformEngine.Gpu;

/// <summary>An NVIDIA GPU through ILGPU's CUDA back end: it needs only the driver (libcuda.so.1); ILGPU writes the
/// PTX itself. Matrix products run on cuBLAS where libcublas is found (see <see cref="GpuDevice.GemmKernel"/>).</summary>
public sealed class CudaDevice : GpuDevice
{
    private const int GroupSizeOnGpus = 256;

    // Groups per multiprocessor of a grid-stride launch: enough resident threads to hide memory latency.
    private const int GroupsPerMultiprocessor = 16;

    private readonly CuBlas? _blas;

    private CudaDevice(CudaAccelerator accelerator, int index, (CuBlas? Blas, string? Failure) cuBlas)
        : base(accelerator, GpuBackend.Cuda, "cuda", index, accelerator.Name, SupportsDoubleOn(accelerator.Architecture),
            Math.Min(GroupSizeOnGpus, accelerator.MaxNumThreadsPerGroup), GroupsPerMultiprocessor)
    {
        _blas = cuBlas.Blas;
        InitialiseGemm(_blas is null ? GpuGemm.TiledKernel : GpuGemm.CuBlas,
            _blas is null ? null : $"cuBLAS ({NativeLibraries.CuBlasLibrary ?? "libcublas"})");
        CuBlasFailure = cuBlas.Failure;
    }

    /// <summary>Why cuBLAS is not used (the library was not found, or could not be initialised); null when it is.</summary>
    public string? CuBlasFailure { get; }

    /// <summary>Opens device <paramref name="index"/> of <see cref="ListDevices"/>.</summary>
    /// <exception cref="NotSupportedException">No CUDA driver, or no such device.</exception>
    public static CudaDevice Open(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        IReadOnlyList<IlgpuCudaDevice> devices = Devices();
        if (devices.Count == 0)
            throw new NotSupportedException(NativeLibraries.CudaDriverPresent()
                ? "The CUDA driver (libcuda.so.1) is installed but reports no device that ILGPU can use."
                : "No CUDA driver: libcuda.so.1 (or libcuda.so) could not be loaded; CUDA needs the NVIDIA driver.");
        if (index >= devices.Count)
            throw new NotSupportedException($"CUDA device {index} was requested but only {devices.Count} exist.");
        var accelerator = devices[index].CreateCudaAccelerator(GpuRuntime.Context);
        return new CudaDevice(accelerator, index, TryCreateCuBlas(accelerator));
    }

    /// <summary>Every CUDA device; empty when there is no driver or no device.</summary>
    public static new IReadOnlyList<GpuDeviceInfo> ListDevices() =>
        [.. Devices().Select((d, i) => new GpuDeviceInfo(GpuBackend.Cuda, i, d.Name, "NVIDIA", d.MemorySize, SupportsDoubleOn(d.Architecture)))];

    /// <summary>64-bit integer atomics exist on every device ILGPU supports.</summary>
    public override bool SupportsDeterministic => true;

    private protected override void DisposeResources() => _blas?.Dispose();

    private protected override bool TryVendorGemm<T>(GemmCall<T> call)
    {
        if (_blas is null || GemmKernel != GpuGemm.CuBlas) return false;
        CuBlasGemm.Run(_blas, call);
        return true;
    }

    // Double atomic add (red.add.f64) exists from compute capability 6.0.
    private static bool SupportsDoubleOn(CudaArchitecture? architecture) =>
        architecture is { } a && a.Major >= 6;

    private static IReadOnlyList<IlgpuCudaDevice> Devices()
    {
        try
        {
            return GpuRuntime.CudaDevices;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            return [];
        }
    }

    /// <summary>cuBLAS on the device's stream (so it runs in issue order with the kernels), or why there is none.
    /// Any failure here only means the tiled kernel runs the products, so every one is caught and reported.</summary>
    private static (CuBlas? Blas, string? Failure) TryCreateCuBlas(CudaAccelerator accelerator)
    {
        try
        {
            accelerator.Bind();
            var blas = new CuBlas(accelerator);
            blas.Stream = (CudaStream)accelerator.DefaultStream;
            return (blas, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return (null, $"{e.GetType().Name}: {e.Message}");
        }
    }
}

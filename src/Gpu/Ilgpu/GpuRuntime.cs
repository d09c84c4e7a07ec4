using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using IlgpuCudaDevice = ILGPU.Runtime.Cuda.CudaDevice;

namespace DeformEngine.Gpu;

/// <summary>
/// The process's one ILGPU context: it finds the CUDA and OpenCL devices once, and every device of this library
/// (the CPU accelerator included) compiles its kernels in it, so their intermediate form is built once.
/// </summary>
internal static class GpuRuntime
{
    private static readonly Lazy<Context> Shared = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    public static Context Context => Shared.Value;

    /// <summary>Held while ILGPU compiles a kernel, so that a failed compile can be cleaned up before the next one
    /// starts (see <see cref="Recover"/>).</summary>
    public static Lock CompileGate { get; } = new();

    /// <summary>Drops what a failed compile left in <paramref name="context"/>'s caches. ILGPU keeps the half-built
    /// intermediate form of a kernel it could not compile, and every later compile in that context then fails
    /// (a NullReferenceException inside its if-conversion); clearing the caches makes the context usable again.
    /// Kernels already loaded keep working. Call with <see cref="CompileGate"/> held.</summary>
    public static void Recover(Context context) => context.ClearCache(ClearCacheMode.Everything);

    /// <summary>The options every context of this library is built with: <c>EnableAlgorithms</c> gives
    /// <c>Math.Exp</c>, <c>Math.Log</c> … their PTX and OpenCL implementations (without it such a kernel still runs
    /// on the CPU accelerator and fails only on a GPU).</summary>
    public static Context.Builder Configure(Context.Builder builder) =>
        builder.EnableAlgorithms().Math(MathMode.Default);

    /// <summary>CUDA devices as ILGPU finds them; empty without a driver.</summary>
    public static IReadOnlyList<IlgpuCudaDevice> CudaDevices => [.. Context.GetCudaDevices()];

    /// <summary>The OpenCL devices ILGPU accepts (OpenCL C 2.0 or later with the generic address space).</summary>
    public static IReadOnlyList<CLDevice> OpenCLDevices => [.. Context.GetCLDevices()];

    private static Context Create()
    {
        NativeLibraries.Register();
        return Context.Create(builder => Configure(builder).Cuda().OpenCL());
    }
}

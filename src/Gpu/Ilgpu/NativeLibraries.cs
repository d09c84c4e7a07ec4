using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace DeformEngine.Gpu;

/// <summary>
/// Where ILGPU finds the native libraries of the driver and of cuBLAS on Linux. ILGPU imports the CUDA driver as
/// <c>cuda</c> and OpenCL as <c>OpenCL</c>, which .NET looks up as <c>libcuda.so</c> and <c>libOpenCL.so</c>:
/// names that only the development packages install, while drivers and GPU containers ship
/// <c>libcuda.so.1</c> and <c>libOpenCL.so.1</c> (the names PyTorch opens). ILGPU.Algorithms names cuBLAS by the
/// major versions it was built against (<c>libcublas.so.10</c> … <c>.12</c>) while current toolkits ship newer
/// ones; the v2 C API it calls is unchanged, so the newest <c>libcublas.so.N</c> present stands in.
/// </summary>
internal static class NativeLibraries
{
    private static readonly Lock Gate = new();
    private static bool _registered;

    // Newest first; a machine rarely has more than one.
    private static readonly int[] CuBlasMajorVersions = [20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10];

    /// <summary>The cuBLAS file the resolver loaded, or null before cuBLAS was asked for (or when absent).</summary>
    public static string? CuBlasLibrary { get; private set; }

    /// <summary>Installs the resolvers once per process, before the first ILGPU call that loads a library.</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (_registered) return;
            _registered = true;
            if (!OperatingSystem.IsLinux()) return;
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, ResolveDriver);
            NativeLibrary.SetDllImportResolver(typeof(CuBlas).Assembly, ResolveCuBlas);
        }
    }

    /// <summary>Whether the CUDA driver library can be loaded at all (to say what is missing when no device is found).</summary>
    public static bool CudaDriverPresent() =>
        TryLoadAny(["libcuda.so", "libcuda.so.1"], out _);

    private static IntPtr ResolveDriver(string name, Assembly assembly, DllImportSearchPath? searchPath) => name switch
    {
        "cuda" => TryLoadAny(["libcuda.so", "libcuda.so.1"], out IntPtr cuda) ? cuda : IntPtr.Zero,
        "OpenCL" => TryLoadAny(["libOpenCL.so", "libOpenCL.so.1"], out IntPtr openCL) ? openCL : IntPtr.Zero,
        _ => IntPtr.Zero,
    };

    private static IntPtr ResolveCuBlas(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!name.StartsWith("libcublas.so", StringComparison.Ordinal)) return IntPtr.Zero;
        if (NativeLibrary.TryLoad(name, out IntPtr exact))
        {
            CuBlasLibrary = name;
            return exact;
        }
        foreach (int major in CuBlasMajorVersions)
        {
            string candidate = $"libcublas.so.{major}";
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                CuBlasLibrary = candidate;
                return handle;
            }
        }
        return IntPtr.Zero;
    }

    private static bool TryLoadAny(string[] names, out IntPtr handle)
    {
        foreach (string name in names)
            if (NativeLibrary.TryLoad(name, out handle))
                return true;
        handle = IntPtr.Zero;
        return false;
    }
}

using System.Runtime.InteropServices;
using System.Text;

namespace DeformEngine.Gpu.Native;

/// <summary>
/// NVRTC, bound through function pointers because its file name carries the toolkit's major
/// version and it lives wherever the toolkit or a Python wheel put it.
/// </summary>
internal sealed unsafe class Nvrtc
{
    private const int Success = 0;

    private readonly delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int> createProgram;
    private readonly delegate* unmanaged<nint, int, byte**, int> compileProgram;
    private readonly delegate* unmanaged<nint, nuint*, int> getProgramLogSize;
    private readonly delegate* unmanaged<nint, byte*, int> getProgramLog;
    private readonly delegate* unmanaged<nint, nuint*, int> getCubinSize;
    private readonly delegate* unmanaged<nint, byte*, int> getCubin;
    private readonly delegate* unmanaged<nint, nuint*, int> getPtxSize;
    private readonly delegate* unmanaged<nint, byte*, int> getPtx;
    private readonly delegate* unmanaged<nint*, int> destroyProgram;
    private readonly delegate* unmanaged<int, byte*> getErrorString;
    private readonly delegate* unmanaged<int*, int> getNumSupportedArchs;
    private readonly delegate* unmanaged<int*, int> getSupportedArchs;

    private Nvrtc(nint library, string path)
    {
        Path = path;
        createProgram = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int>)NativeLibrary.GetExport(library, "nvrtcCreateProgram");
        compileProgram = (delegate* unmanaged<nint, int, byte**, int>)NativeLibrary.GetExport(library, "nvrtcCompileProgram");
        getProgramLogSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(library, "nvrtcGetProgramLogSize");
        getProgramLog = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(library, "nvrtcGetProgramLog");
        getCubinSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(library, "nvrtcGetCUBINSize");
        getCubin = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(library, "nvrtcGetCUBIN");
        getPtxSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(library, "nvrtcGetPTXSize");
        getPtx = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(library, "nvrtcGetPTX");
        destroyProgram = (delegate* unmanaged<nint*, int>)NativeLibrary.GetExport(library, "nvrtcDestroyProgram");
        getErrorString = (delegate* unmanaged<int, byte*>)NativeLibrary.GetExport(library, "nvrtcGetErrorString");
        getNumSupportedArchs = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(library, "nvrtcGetNumSupportedArchs");
        getSupportedArchs = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(library, "nvrtcGetSupportedArchs");
    }

    /// <summary>The file that was loaded.</summary>
    public string Path { get; }

    /// <summary>
    /// Loads the newest NVRTC whose major version the driver also speaks: code from a newer
    /// toolkit than the driver can be refused at module load.
    /// </summary>
    public static Nvrtc Load(int driverMajor)
    {
        var tried = new List<string>();
        foreach (int major in new[] { 13, 12 }.Where(m => m <= driverMajor))
        {
            foreach (string candidate in Candidates($"libnvrtc.so.{major}"))
            {
                tried.Add(candidate);
                if (NativeLibrary.TryLoad(candidate, out nint library))
                    return new Nvrtc(library, candidate);
            }
        }
        throw new NotSupportedException(
            $"NVRTC for a CUDA {driverMajor}.x driver was not found; looked for: {string.Join(", ", tried.Distinct())}");
    }

    private static IEnumerable<string> Candidates(string fileName)
    {
        // The bare name first, so LD_LIBRARY_PATH and the ldconfig cache win.
        yield return fileName;
        foreach (string folder in Folders())
            yield return System.IO.Path.Combine(folder, fileName);
    }

    private static IEnumerable<string> Folders()
    {
        foreach (string variable in new[] { "CUDA_PATH", "CUDA_HOME" })
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } root)
                yield return System.IO.Path.Combine(root, "lib64");
        yield return "/usr/local/cuda/lib64";
        foreach (string toolkit in Glob("/usr/local", "cuda-*").OrderDescending())
            yield return System.IO.Path.Combine(toolkit, "lib64");
        yield return "/usr/lib/x86_64-linux-gnu";
        foreach (string packages in PythonPackageFolders())
        {
            yield return System.IO.Path.Combine(packages, "nvidia", "cu13", "lib");
            yield return System.IO.Path.Combine(packages, "nvidia", "cuda_nvrtc", "lib");
        }
    }

    // PyTorch's wheels bring NVRTC along; these are the usual homes of site-packages.
    private static IEnumerable<string> PythonPackageFolders()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string?[] prefixes =
        [
            Environment.GetEnvironmentVariable("VIRTUAL_ENV"), Environment.GetEnvironmentVariable("CONDA_PREFIX"),
            "/usr/local", "/usr", "/opt/conda", home.Length > 0 ? System.IO.Path.Combine(home, ".local") : null,
        ];
        foreach (string? prefix in prefixes)
        {
            if (string.IsNullOrEmpty(prefix))
                continue;
            foreach (string python in Glob(System.IO.Path.Combine(prefix, "lib"), "python3*"))
            {
                yield return System.IO.Path.Combine(python, "site-packages");
                yield return System.IO.Path.Combine(python, "dist-packages");
            }
        }
    }

    private static string[] Glob(string folder, string pattern)
    {
        try
        {
            return Directory.Exists(folder) ? Directory.GetDirectories(folder, pattern) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>
    /// Compiles CUDA C to a module image for a device of compute capability <paramref name="arch"/>
    /// (major·10 + minor): a CUBIN when NVRTC knows the architecture, else PTX for the newest one
    /// it knows below it, which the (newer) driver JIT-compiles.
    /// </summary>
    public byte[] Compile(string name, string source, int arch)
    {
        int[] supported = SupportedArchitectures();
        bool native = supported.Contains(arch);
        int target = native ? arch : supported.Where(a => a < arch).DefaultIfEmpty(0).Max();
        if (target == 0)
            throw new NotSupportedException($"NVRTC at {Path} cannot target compute capability {arch / 10}.{arch % 10}.");

        nint program;
        fixed (byte* sourceBytes = Utf8(source))
        fixed (byte* nameBytes = Utf8(name))
            Check(createProgram(&program, sourceBytes, nameBytes, 0, null, null), "nvrtcCreateProgram");
        try
        {
            string[] options = [$"--gpu-architecture={(native ? "sm" : "compute")}_{target}", "-default-device", "--std=c++17"];
            int status = CompileWithOptions(program, options);
            if (status != Success)
                throw new CudaException(status, ErrorName(status), $"NVRTC could not compile '{name}'; program log:\n{Log(program)}");
            return native ? Read(program, getCubinSize, getCubin, "nvrtcGetCUBIN") : Read(program, getPtxSize, getPtx, "nvrtcGetPTX");
        }
        finally
        {
            destroyProgram(&program);
        }
    }

    private int[] SupportedArchitectures()
    {
        int count;
        Check(getNumSupportedArchs(&count), "nvrtcGetNumSupportedArchs");
        var archs = new int[count];
        fixed (int* values = archs)
            Check(getSupportedArchs(values), "nvrtcGetSupportedArchs");
        return archs;
    }

    private int CompileWithOptions(nint program, string[] options)
    {
        byte[][] encoded = options.Select(Utf8).ToArray();
        var handles = encoded.Select(bytes => GCHandle.Alloc(bytes, GCHandleType.Pinned)).ToArray();
        try
        {
            byte** pointers = stackalloc byte*[handles.Length];
            for (int i = 0; i < handles.Length; i++)
                pointers[i] = (byte*)handles[i].AddrOfPinnedObject();
            return compileProgram(program, handles.Length, pointers);
        }
        finally
        {
            foreach (GCHandle handle in handles)
                handle.Free();
        }
    }

    private string Log(nint program)
    {
        nuint size;
        if (getProgramLogSize(program, &size) != Success || size <= 1)
            return "(empty log)";
        var log = new byte[size];
        fixed (byte* text = log)
            return getProgramLog(program, text) == Success ? Encoding.UTF8.GetString(log, 0, (int)size - 1) : "(no log)";
    }

    private byte[] Read(nint program, delegate* unmanaged<nint, nuint*, int> sizeOf, delegate* unmanaged<nint, byte*, int> copy, string call)
    {
        nuint size;
        Check(sizeOf(program, &size), call + "Size");
        var image = new byte[size];
        fixed (byte* bytes = image)
            Check(copy(program, bytes), call);
        return image;
    }

    private void Check(int status, string call)
    {
        if (status != Success)
            throw new CudaException(status, ErrorName(status), call);
    }

    private string ErrorName(int status) => Marshal.PtrToStringUTF8((nint)getErrorString(status)) ?? $"NVRTC_ERROR_{status}";

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text + '\0');
}

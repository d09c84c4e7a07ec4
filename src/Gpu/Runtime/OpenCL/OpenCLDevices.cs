using System.Text;
using static DeformEngine.Gpu.Native.OpenCL;

namespace DeformEngine.Gpu;

/// <summary>Device discovery: every device of every platform, numbered in that order.</summary>
internal static unsafe class OpenCLDevices
{
    // Two threads making the process's first OpenCL calls at once crash inside the ICD loader /
    // PoCL initialisation (segfault seen with ocl-icd + PoCL 3.1), so enumeration is serialised.
    private static readonly Lock EnumerationGate = new();

    /// <summary>All device ids; <see cref="NotSupportedException"/> saying why when there are none.</summary>
    public static List<nint> Enumerate()
    {
        lock (EnumerationGate)
            return EnumerateUnderLock();
    }

    private static List<nint> EnumerateUnderLock()
    {
        uint platformCount;
        int status;
        try
        {
            status = clGetPlatformIDs(0, null, &platformCount);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new NotSupportedException($"The OpenCL runtime (libOpenCL.so.1) could not be loaded: {e.Message}", e);
        }
        // The ICD loader reports "no vendor driver installed" as CL_PLATFORM_NOT_FOUND_KHR.
        if (status == PlatformNotFoundKhr || (status == Success && platformCount == 0))
            throw new NotSupportedException("No OpenCL platform is installed (the ICD loader found no vendor driver).");
        OpenCLException.Check(status, "clGetPlatformIDs");

        var platforms = new nint[platformCount];
        fixed (nint* ids = platforms)
            OpenCLException.Check(clGetPlatformIDs(platformCount, ids, null), "clGetPlatformIDs");

        var devices = new List<nint>();
        foreach (nint platform in platforms)
        {
            uint deviceCount;
            // A platform without devices answers CL_DEVICE_NOT_FOUND; that is not an error here.
            if (clGetDeviceIDs(platform, DeviceTypeAll, 0, null, &deviceCount) != Success || deviceCount == 0)
                continue;
            var ids = new nint[deviceCount];
            fixed (nint* pointer = ids)
                OpenCLException.Check(clGetDeviceIDs(platform, DeviceTypeAll, deviceCount, pointer, null), "clGetDeviceIDs");
            devices.AddRange(ids);
        }
        if (devices.Count == 0)
            throw new NotSupportedException("OpenCL platforms are installed but none reports a device.");
        return devices;
    }

    public static GpuDeviceInfo Describe(nint device, int index) => new(
        GpuBackend.OpenCL, index, String(device, DeviceName), String(device, DeviceVendor),
        (long)Number(device, DeviceGlobalMemSize), SupportsDouble(device));

    /// <summary>Double kernels need cl_khr_fp64 for arithmetic and 64-bit CAS for ATOMIC_ADD_F.</summary>
    public static bool SupportsDouble(nint device) =>
        HasExtension(device, "cl_khr_fp64") && HasExtension(device, "cl_khr_int64_base_atomics");

    public static bool HasExtension(nint device, string extension) =>
        String(device, DeviceExtensions).Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(extension);

    public static string PlatformNameOf(nint device)
    {
        nint platform = (nint)Number(device, DevicePlatform);
        nuint size;
        OpenCLException.Check(clGetPlatformInfo(platform, PlatformName, 0, null, &size), "clGetPlatformInfo");
        var bytes = new byte[size];
        fixed (byte* value = bytes)
            OpenCLException.Check(clGetPlatformInfo(platform, PlatformName, size, value, null), "clGetPlatformInfo");
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    public static string String(nint device, uint parameter)
    {
        nuint size;
        OpenCLException.Check(clGetDeviceInfo(device, parameter, 0, null, &size), "clGetDeviceInfo");
        var bytes = new byte[size];
        fixed (byte* value = bytes)
            OpenCLException.Check(clGetDeviceInfo(device, parameter, size, value, null), "clGetDeviceInfo");
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    /// <summary>A size_t, cl_ulong or handle property; all fit in 8 bytes, little-endian.</summary>
    public static ulong Number(nint device, uint parameter)
    {
        ulong value = 0;
        OpenCLException.Check(clGetDeviceInfo(device, parameter, sizeof(ulong), &value, null), "clGetDeviceInfo");
        return value;
    }
}

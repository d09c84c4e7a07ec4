using System.Runtime.InteropServices;

namespace DeformEngine.Gpu.Native;

/// <summary>
/// CUDA driver API. CUdevice is an int, CUdeviceptr a 64-bit integer, every other handle an
/// opaque pointer. Entry points carry the <c>_v2</c> suffix where cuda.h maps the plain name to
/// it, because we bind exported symbols, not the header's macros.
/// </summary>
internal static unsafe partial class Cuda
{
    // Containers often lack the unversioned libcuda.so development link.
    private const string Library = "libcuda.so.1";

    internal const int Success = 0;
    internal const int AttributeMaxThreadsPerBlock = 1;
    internal const int AttributeComputeCapabilityMajor = 75;
    internal const int AttributeComputeCapabilityMinor = 76;

    [LibraryImport(Library)]
    internal static partial int cuInit(uint flags);

    [LibraryImport(Library)]
    internal static partial int cuDriverGetVersion(int* version);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetCount(int* count);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGet(int* device, int ordinal);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetAttribute(int* value, int attribute, int device);

    [LibraryImport(Library)]
    internal static partial int cuDeviceTotalMem_v2(nuint* bytes, int device);

    [LibraryImport(Library)]
    internal static partial int cuDevicePrimaryCtxRetain(nint* context, int device);

    [LibraryImport(Library)]
    internal static partial int cuDevicePrimaryCtxRelease_v2(int device);

    [LibraryImport(Library)]
    internal static partial int cuCtxSetCurrent(nint context);

    [LibraryImport(Library)]
    internal static partial int cuCtxSynchronize();

    [LibraryImport(Library)]
    internal static partial int cuMemAlloc_v2(ulong* devicePointer, nuint bytes);

    [LibraryImport(Library)]
    internal static partial int cuMemFree_v2(ulong devicePointer);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyHtoD_v2(ulong destination, void* source, nuint bytes);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyDtoH_v2(void* destination, ulong source, nuint bytes);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyDtoD_v2(ulong destination, ulong source, nuint bytes);

    [LibraryImport(Library)]
    internal static partial int cuMemsetD32_v2(ulong destination, uint value, nuint count);

    [LibraryImport(Library)]
    internal static partial int cuMemsetD8_v2(ulong destination, byte value, nuint count);

    [LibraryImport(Library)]
    internal static partial int cuMemGetInfo_v2(nuint* free, nuint* total);

    [LibraryImport(Library)]
    internal static partial int cuModuleLoadData(nint* module, void* image);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int cuModuleGetFunction(nint* function, nint module, string name);

    [LibraryImport(Library)]
    internal static partial int cuModuleUnload(nint module);

    [LibraryImport(Library)]
    internal static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, nint stream, void** parameters, void** extra);

    [LibraryImport(Library)]
    internal static partial int cuGetErrorName(int error, byte** name);

    [LibraryImport(Library)]
    internal static partial int cuEventCreate(nint* evt, uint flags);

    [LibraryImport(Library)]
    internal static partial int cuEventRecord(nint evt, nint stream);

    [LibraryImport(Library)]
    internal static partial int cuEventSynchronize(nint evt);

    [LibraryImport(Library)]
    internal static partial int cuEventElapsedTime(float* milliseconds, nint start, nint end);

    [LibraryImport(Library)]
    internal static partial int cuEventDestroy_v2(nint evt);
}

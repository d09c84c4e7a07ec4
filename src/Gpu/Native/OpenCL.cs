using System.Runtime.InteropServices;

namespace DeformEngine.Gpu.Native;

/// <summary>
/// OpenCL 1.2/2.0 host API through the ICD loader. Every handle (platform, device, context,
/// queue, program, kernel, mem) is an opaque pointer, so all are <see cref="nint"/>.
/// </summary>
internal static unsafe partial class OpenCL
{
    // The versioned name: containers often ship the ICD loader without the dev symlink.
    private const string Library = "libOpenCL.so.1";

    internal const int Success = 0;
    internal const int BuildProgramFailure = -11;
    internal const int PlatformNotFoundKhr = -1001;

    internal const ulong DeviceTypeAll = 0xFFFFFFFF;
    internal const ulong MemReadWrite = 1;

    internal const uint PlatformName = 0x0902;
    internal const uint DeviceMaxWorkGroupSize = 0x1004;
    internal const uint DeviceMaxMemAllocSize = 0x1010;
    internal const uint DeviceGlobalMemSize = 0x101F;
    internal const uint DeviceName = 0x102B;
    internal const uint DeviceVendor = 0x102C;
    internal const uint DeviceExtensions = 0x1030;
    internal const uint DevicePlatform = 0x1031;
    internal const uint ProgramBuildLog = 0x1183;

    [LibraryImport(Library)]
    internal static partial int clGetPlatformIDs(uint numEntries, nint* platforms, uint* numPlatforms);

    [LibraryImport(Library)]
    internal static partial int clGetPlatformInfo(nint platform, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    internal static partial int clGetDeviceIDs(nint platform, ulong deviceType, uint numEntries, nint* devices, uint* numDevices);

    [LibraryImport(Library)]
    internal static partial int clGetDeviceInfo(nint device, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library)]
    internal static partial nint clCreateContext(nint* properties, uint numDevices, nint* devices, nint notify, nint userData, int* errorCode);

    [LibraryImport(Library)]
    internal static partial nint clCreateCommandQueueWithProperties(nint context, nint device, ulong* properties, int* errorCode);

    [LibraryImport(Library)]
    internal static partial nint clCreateProgramWithSource(nint context, uint count, byte** strings, nuint* lengths, int* errorCode);

    [LibraryImport(Library)]
    internal static partial int clBuildProgram(nint program, uint numDevices, nint* devices, byte* options, nint notify, nint userData);

    [LibraryImport(Library)]
    internal static partial int clGetProgramBuildInfo(nint program, nint device, uint paramName, nuint valueSize, void* value, nuint* valueSizeRet);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint clCreateKernel(nint program, string kernelName, int* errorCode);

    [LibraryImport(Library)]
    internal static partial int clSetKernelArg(nint kernel, uint index, nuint size, void* value);

    [LibraryImport(Library)]
    internal static partial nint clCreateBuffer(nint context, ulong flags, nuint size, void* hostPointer, int* errorCode);

    [LibraryImport(Library)]
    internal static partial int clEnqueueWriteBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* source,
        uint numWaitEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    internal static partial int clEnqueueReadBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* destination,
        uint numWaitEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    internal static partial int clEnqueueFillBuffer(nint queue, nint buffer, void* pattern, nuint patternSize, nuint offset, nuint size,
        uint numWaitEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    internal static partial int clEnqueueCopyBuffer(nint queue, nint source, nint destination, nuint sourceOffset, nuint destinationOffset,
        nuint size, uint numWaitEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    internal static partial int clEnqueueNDRangeKernel(nint queue, nint kernel, uint workDim, nuint* globalOffset, nuint* globalSize,
        nuint* localSize, uint numWaitEvents, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    internal static partial int clFinish(nint queue);

    [LibraryImport(Library)]
    internal static partial int clReleaseMemObject(nint buffer);

    [LibraryImport(Library)]
    internal static partial int clReleaseKernel(nint kernel);

    [LibraryImport(Library)]
    internal static partial int clReleaseProgram(nint program);

    [LibraryImport(Library)]
    internal static partial int clReleaseCommandQueue(nint queue);

    [LibraryImport(Library)]
    internal static partial int clReleaseContext(nint context);
}

using System.Runtime.InteropServices;

namespace DeformEngine.Gpu;

/// <summary>A CUDA driver or NVRTC call returned an error status.</summary>
public sealed class CudaException : GpuException
{
    internal CudaException(int errorCode, string errorName, string message)
        : base(errorCode, errorName, message)
    {
    }

    internal static void Check(int status, string call)
    {
        if (status != Native.Cuda.Success)
            throw new CudaException(status, NameOf(status), call);
    }

    /// <summary>The CUDA_ERROR_* name the driver gives a CUresult.</summary>
    internal static unsafe string NameOf(int status)
    {
        byte* name;
        return Native.Cuda.cuGetErrorName(status, &name) == Native.Cuda.Success && name != null
            ? Marshal.PtrToStringUTF8((nint)name) ?? $"CUDA_ERROR_{status}"
            : $"CUDA_ERROR_{status}";
    }
}

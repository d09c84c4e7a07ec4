namespace DeformEngine.Gpu;

/// <summary>A failed call into a GPU runtime, carrying the runtime's own error code and name.</summary>
public abstract class GpuException : Exception
{
    private protected GpuException(int errorCode, string errorName, string message)
        : base($"{errorName} ({errorCode}): {message}")
    {
        ErrorCode = errorCode;
        ErrorName = errorName;
    }

    /// <summary>The runtime's numeric status (cl_int, CUresult or nvrtcResult).</summary>
    public int ErrorCode { get; }

    /// <summary>The symbolic name, e.g. <c>CL_INVALID_BUFFER_SIZE</c> or <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</summary>
    public string ErrorName { get; }
}

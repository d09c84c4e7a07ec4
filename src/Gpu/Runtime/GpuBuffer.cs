namespace DeformEngine.Gpu;

/// <summary>
/// Device memory owned by one <see cref="GpuContext"/>. Disposing the context frees every buffer
/// it still owns, so a buffer never outlives the context it points into.
/// </summary>
public sealed class GpuBuffer : IDisposable
{
    internal GpuBuffer(GpuContext context, nint handle, long bytes)
    {
        Context = context;
        Handle = handle;
        Bytes = bytes;
    }

    public GpuContext Context { get; }

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>The cl_mem or CUdeviceptr.</summary>
    internal nint Handle { get; }

    public bool IsDisposed { get; internal set; }

    public void Dispose() => Context.Free(this);
}

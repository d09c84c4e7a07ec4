namespace DeformEngine.Gpu;

/// <summary>
/// The storage of a tensor on a <see cref="GpuDevice"/>. Tensors share buffers (Reshape, Detach),
/// so nobody disposes a tensor's buffer explicitly: the finalizer returns the memory once the last
/// tensor is gone, and the GC is told how much native memory each buffer holds so that it runs.
/// Workspace buffers are disposed at once.
/// </summary>
internal sealed class GpuDeviceBuffer : DeviceBuffer
{
    private readonly GpuDevice _device;
    private int _released;

    internal GpuDeviceBuffer(GpuDevice device, GpuBuffer buffer, long count)
    {
        _device = device;
        Buffer = buffer;
        Count = count;
        GC.AddMemoryPressure(buffer.Bytes);
    }

    ~GpuDeviceBuffer() => Release();

    public override Device Device => _device;

    public override long Count { get; }

    internal GpuBuffer Buffer { get; }

    public override void Upload<T>(ReadOnlySpan<T> source)
    {
        _device.ThrowIfDisposed();
        _device.Context.Upload(Buffer, source);
    }

    public override void Download<T>(Span<T> destination)
    {
        _device.ThrowIfDisposed();
        _device.Context.Download(Buffer, destination);
    }

    public override void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    // Freeing while an enqueued kernel still uses the buffer is safe: OpenCL defers the release until
    // the commands finish, and cuMemFree waits for the device.
    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        Buffer.Dispose();
        GC.RemoveMemoryPressure(Buffer.Bytes);
    }
}

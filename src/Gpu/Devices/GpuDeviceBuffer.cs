using ILGPU;
using ILGPU.Runtime;

namespace DeformEngine.Gpu;

/// <summary>
/// The storage of a tensor on a <see cref="GpuDevice"/>: raw bytes, viewed as the element type a kernel asks for.
/// Tensors share buffers (Reshape, Detach), so nobody disposes a tensor's buffer explicitly: ILGPU frees the memory
/// when the buffer is collected, and the GC is told how much native memory each buffer holds so that it runs.
/// Workspace buffers are disposed at once. Disposing the device frees every buffer on it.
/// </summary>
internal sealed class GpuDeviceBuffer : DeviceBuffer
{
    private readonly GpuDevice _device;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _memory;
    private int _released;

    internal GpuDeviceBuffer(GpuDevice device, MemoryBuffer1D<byte, Stride1D.Dense> memory, long count)
    {
        _device = device;
        _memory = memory;
        Count = count;
        GC.AddMemoryPressure(Math.Max(memory.LengthInBytes, 1));
    }

    ~GpuDeviceBuffer() => ReleasePressure();

    public override Device Device => _device;

    public override long Count { get; }

    public ArrayView<T> View<T>() where T : unmanaged
    {
        _device.ThrowIfDisposed();
        if (_released != 0) throw new ObjectDisposedException(nameof(GpuDeviceBuffer), $"A workspace buffer of '{_device.Name}' was used after disposal.");
        return _memory.View.AsContiguous().Cast<T>();
    }

    public override void Upload<T>(ReadOnlySpan<T> source) => _device.Upload(View<T>(), source);

    public override void Download<T>(Span<T> destination) => _device.Download(View<T>(), destination);

    public override void Dispose()
    {
        if (_released == 0 && !_device.IsDisposed)
            _device.Run(_memory.Dispose);
        ReleasePressure();
        GC.SuppressFinalize(this);
    }

    private void ReleasePressure()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
            GC.RemoveMemoryPressure(Math.Max(_memory.LengthInBytes, 1));
    }
}

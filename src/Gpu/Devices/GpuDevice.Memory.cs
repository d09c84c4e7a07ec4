using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace DeformEngine.Gpu;

/// <summary>Device memory: allocation (an allocation that fails collects garbage once and retries, since tensors
/// that are garbage still hold memory until their finalizers run), host copies, fills and device copies.</summary>
public abstract partial class GpuDevice
{
    /// <exception cref="InsufficientMemoryException">The device cannot hold the buffer.</exception>
    public override DeviceBuffer Allocate<T>(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ThrowIfDisposed();
        long bytes;
        try
        {
            bytes = checked(Math.Max(count, 1) * Unsafe.SizeOf<T>());
        }
        catch (OverflowException e)
        {
            throw new InsufficientMemoryException($"Device '{Name}' cannot allocate {count} elements of {typeof(T).Name}: the size overflows.", e);
        }
        return new GpuDeviceBuffer(this, AllocateBytes(bytes, $"{count} elements of {typeof(T).Name}"), count);
    }

    private MemoryBuffer1D<byte, Stride1D.Dense> AllocateBytes(long bytes, string what)
    {
        Exception? failure = null;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                MemoryBuffer1D<byte, Stride1D.Dense>? memory = null;
                Run(() => memory = Accelerator.Allocate1D<byte>(bytes));
                return memory!;
            }
            catch (Exception e) when (e is not (ObjectDisposedException or ArgumentException))
            {
                failure = e;
                if (attempt > 0) break;
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }
        throw new InsufficientMemoryException($"Device '{Name}' cannot allocate {what} ({bytes} bytes): {failure!.Message}", failure);
    }

    internal void Upload<T>(ArrayView<T> destination, ReadOnlySpan<T> source) where T : unmanaged
    {
        if (source.IsEmpty) return;
        var target = destination.SubView(0, source.Length);
        // The span may be stack or pooled memory: the copy is done (the stream synchronised) before returning.
        ThrowIfDisposed();
        lock (_gate)
        {
            ThrowIfDisposed();
            Accelerator.Bind();
            target.CopyFromCPU(Stream, source);
            Stream.Synchronize();
        }
    }

    internal void Download<T>(ArrayView<T> source, Span<T> destination) where T : unmanaged
    {
        if (destination.IsEmpty) return;
        var from = source.SubView(0, destination.Length);
        ThrowIfDisposed();
        lock (_gate)
        {
            ThrowIfDisposed();
            Accelerator.Bind();
            from.CopyToCPU(Stream, destination);
            Stream.Synchronize();
        }
    }

    /// <summary>A new buffer holding <paramref name="values"/> (small tables: RoI windows, pool windows, shapes),
    /// for the caller to dispose once the kernels that read it are issued.</summary>
    internal GpuDeviceBuffer Table<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        var buffer = (GpuDeviceBuffer)Allocate<T>(values.Length);
        Upload(buffer.View<T>(), values);
        return buffer;
    }

    internal void Zero<T>(ArrayView<T> view) where T : unmanaged
    {
        if (view.Length > 0) Run(() => view.MemSetToZero(Stream));
    }

    internal void CopyView<T>(ArrayView<T> source, ArrayView<T> destination) where T : unmanaged
    {
        if (source.Length > 0) Run(() => source.CopyTo(Stream, destination.SubView(0, source.Length)));
    }
}

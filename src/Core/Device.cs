namespace DeformEngine;

/// <summary>Where a tensor's storage lives. <see cref="Cpu"/> holds managed arrays; GPU backends
/// derive their own device and buffer types and implement the backend contracts (Core's
/// <see cref="ITensorBackend"/> and the operators' contracts) on them.</summary>
public abstract class Device
{
    /// <summary>The managed CPU, the home of every tensor unless moved.</summary>
    public static Device Cpu { get; } = new CpuDevice();

    /// <summary>A short name for messages, such as "cpu" or the accelerator's name.</summary>
    public abstract string Name { get; }

    /// <summary>True for <see cref="Cpu"/>, whose tensors keep their data in managed arrays.</summary>
    public bool IsCpu => ReferenceEquals(this, Cpu);

    /// <summary>True once the device has been released; its buffers are then unusable.</summary>
    public abstract bool IsDisposed { get; }

    /// <summary>Allocates uninitialised storage for <paramref name="count"/> elements of
    /// <typeparamref name="T"/>.</summary>
    public abstract DeviceBuffer Allocate<T>(long count) where T : unmanaged;

    /// <summary>The device's <see cref="Name"/>.</summary>
    public override string ToString() => Name;

    /// <summary>The exception for an operation this device does not implement.</summary>
    public NotSupportedException Unsupported(string operation) =>
        new($"{operation} is not implemented on device '{Name}'; move the tensors with To(Device.Cpu) to run it on the CPU.");

    /// <exception cref="ObjectDisposedException">The device has been disposed.</exception>
    public void ThrowIfDisposed()
    {
        if (IsDisposed)
            throw new ObjectDisposedException(Name, $"Device '{Name}' has been disposed; its tensors can no longer be used.");
    }

    private sealed class CpuDevice : Device
    {
        public override string Name => "cpu";
        public override bool IsDisposed => false;

        public override DeviceBuffer Allocate<T>(long count) =>
            throw new NotSupportedException("CPU tensors keep their data in managed arrays, not device buffers.");
    }
}

/// <summary>Storage of a tensor on a non-CPU device.</summary>
public abstract class DeviceBuffer : IDisposable
{
    /// <summary>The device that owns this storage.</summary>
    public abstract Device Device { get; }

    /// <summary>Number of elements the buffer holds.</summary>
    public abstract long Count { get; }

    /// <summary>Copies <paramref name="source"/> (at most <see cref="Count"/> elements) from host memory into the
    /// buffer's first elements.</summary>
    public abstract void Upload<T>(ReadOnlySpan<T> source) where T : unmanaged;

    /// <summary>Copies the buffer's first <paramref name="destination"/>.Length elements into host memory.</summary>
    public abstract void Download<T>(Span<T> destination) where T : unmanaged;

    /// <summary>Frees the device memory; the buffer is unusable afterwards.</summary>
    public abstract void Dispose();
}

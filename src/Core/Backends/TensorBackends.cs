namespace DeformEngine;

/// <summary>Finds the <see cref="ITensorBackend"/> of a device: the CPU's own for <see cref="Device.Cpu"/>,
/// the device itself for any other.</summary>
public static class TensorBackends
{
    /// <summary>The backend of <paramref name="device"/>, or a clear refusal.</summary>
    /// <exception cref="ObjectDisposedException">The device has been disposed.</exception>
    /// <exception cref="NotSupportedException">The device runs no tensor primitives.</exception>
    public static ITensorBackend For(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.IsCpu) return Cpu.CpuTensorBackend.Instance;
        device.ThrowIfDisposed();
        return device as ITensorBackend ?? throw device.Unsupported("Tensor operations");
    }
}

namespace DeformEngine;

/// <summary>
/// Finds the backend that runs an operator for a tensor's device. On the CPU there are two peers:
/// <see cref="CpuReferenceBackend"/> (plain loops, selected by <see cref="EngineOptions.UseReferenceKernels"/>)
/// and <see cref="CpuFastBackend"/> (the default). Any other device is its own backend: it implements the
/// operator contracts (<c>IDeformConv2dBackend</c>, …) it supports.
/// </summary>
public static class OperatorBackends
{
    /// <summary>The CPU backend the current <see cref="EngineOptions.UseReferenceKernels"/> selects.</summary>
    public static CpuReferenceBackend Cpu =>
        EngineOptions.UseReferenceKernels ? CpuReferenceBackend.Instance : CpuFastBackend.Instance;

    /// <summary>The backend of <paramref name="device"/> for an operator of contract
    /// <typeparamref name="TContract"/>, or a clear refusal naming <paramref name="operation"/>.</summary>
    /// <exception cref="ObjectDisposedException">The device has been disposed.</exception>
    /// <exception cref="NotSupportedException">The device does not implement the operator.</exception>
    public static TContract For<TContract>(Device device, string operation) where TContract : class
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.IsCpu)
            return Cpu as TContract ?? throw device.Unsupported(operation);
        device.ThrowIfDisposed();
        return device as TContract ?? throw device.Unsupported(operation);
    }
}

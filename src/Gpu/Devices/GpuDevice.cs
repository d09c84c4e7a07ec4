using System.Numerics;
using System.Runtime.CompilerServices;

namespace DeformEngine.Gpu;

/// <summary>
/// A GPU (or any OpenCL device) as a tensor <see cref="Device"/>: <c>tensor.To(device)</c> moves data
/// here, and it is the backend of their tensor primitives (<see cref="ITensorBackend"/>) and of every
/// operator contract it implements (one partial file per operator, under the operator's name), run as
/// kernels compiled on first use and cached per device and precision. float always; double where
/// <see cref="SupportsDouble"/>. Work runs in issue order on one queue; reading a tensor back waits for it.
/// </summary>
public abstract partial class GpuDevice : Device, IDisposable
{
    private static readonly Dictionary<string, int> OpenCount = [];
    private readonly GpuBuffer _placeholder;
    private bool _deterministic;
    private bool _disposed;

    private protected GpuDevice(GpuContext context, string prefix, int index)
    {
        Context = context;
        string id = $"{prefix}:{index}";
        int instance;
        lock (OpenCount)
            OpenCount[id] = instance = OpenCount.GetValueOrDefault(id) + 1;
        // Two handles on one physical device are two devices (their buffers do not mix): the
        // instance number keeps their names apart in error messages.
        Name = $"{id}{(instance > 1 ? $"#{instance}" : "")} ({context.Name})";
        _placeholder = context.Allocate(16);
    }

    public override string Name { get; }

    /// <summary>The runtime context: memory, compilation and launches.</summary>
    public GpuContext Context { get; }

    public GpuBackend Backend => Context.Backend;

    /// <summary>Whether float64 tensors can be computed on (they can always be stored).</summary>
    public bool SupportsDouble => Context.SupportsDouble;

    /// <summary>Whether <see cref="Deterministic"/> may be set: it needs 64-bit integer atomics.</summary>
    public abstract bool SupportsDeterministic { get; }

    /// <summary>
    /// False (default): gradients that several sampling points scatter into one input cell are added
    /// with float atomics, in whatever order the device runs them. True: they are accumulated in 64-bit
    /// fixed point (integer addition is associative) and converted once, so repeated runs give
    /// bitwise identical results; it costs a max-reduction and a conversion per call. Every other
    /// kernel sums in a fixed order in both modes.
    /// </summary>
    public bool Deterministic
    {
        get => _deterministic;
        set => _deterministic = !value || SupportsDeterministic
            ? value
            : throw new NotSupportedException($"Device '{Name}' has no 64-bit integer atomics, which deterministic mode needs.");
    }

    public override bool IsDisposed => _disposed;

    /// <summary>The OpenCL and CUDA devices on this machine; empty when neither runtime is present.</summary>
    public static IReadOnlyList<GpuDeviceInfo> ListDevices() =>
        [.. OpenCLDevice.ListDevices(), .. CudaDevice.ListDevices()];

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

    /// <summary>Waits until every kernel issued so far has finished.</summary>
    public void Synchronize()
    {
        ThrowIfDisposed();
        Context.Synchronize();
    }

    /// <summary>Releases the device and all memory on it; its tensors become unusable (they throw
    /// <see cref="ObjectDisposedException"/>).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Context.Dispose();
        GC.SuppressFinalize(this);
    }

    private GpuBuffer AllocateBytes(long bytes, string what)
    {
        try
        {
            return Context.Allocate(bytes);
        }
        catch (GpuException)
        {
            // Tensors that are garbage may still hold device memory until their finalizers run.
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        try
        {
            return Context.Allocate(bytes);
        }
        catch (GpuException e)
        {
            throw new InsufficientMemoryException(
                $"Device '{Name}' cannot allocate {what} ({bytes} bytes): {e.ErrorName}. {e.Message}", e);
        }
    }

    /// <summary>A scratch buffer of raw bytes, disposed by the caller.</summary>
    private GpuBuffer Scratch(long bytes) => AllocateBytes(Math.Max(bytes, 1), $"{bytes} bytes of workspace");

    /// <summary>The native buffer behind a buffer of this device.</summary>
    private GpuBuffer Native(DeviceBuffer buffer, [CallerArgumentExpression(nameof(buffer))] string argumentName = "")
    {
        ArgumentNullException.ThrowIfNull(buffer, argumentName);
        ThrowIfDisposed();
        if (buffer is not GpuDeviceBuffer own || !ReferenceEquals(own.Device, this))
            throw new ArgumentException($"{argumentName}: the buffer lives on '{buffer.Device.Name}', not on '{Name}'.", argumentName);
        return own.Buffer;
    }

    /// <summary>The native buffer, or a placeholder for an absent one (its kernel flag says not to touch it).</summary>
    private GpuBuffer NativeOrPlaceholder(DeviceBuffer? buffer, [CallerArgumentExpression(nameof(buffer))] string argumentName = "") =>
        buffer is null ? _placeholder : Native(buffer, argumentName);

    private GpuKernel Kernel<T>(string sourceName, string source, string name)
    {
        GpuPrecision precision;
        if (typeof(T) == typeof(float)) precision = GpuPrecision.Single;
        else if (typeof(T) == typeof(double))
            precision = SupportsDouble
                ? GpuPrecision.Double
                : throw new NotSupportedException($"Device '{Name}' does not support float64 kernels; use float tensors or the CPU.");
        else throw new NotSupportedException($"Tensors of {typeof(T).Name} cannot run on device '{Name}'.");
        return Context.Compile(sourceName, source, precision).GetKernel(name);
    }

    /// <summary>A kernel's <c>real</c> argument.</summary>
    private static KernelArg Real<T>(T value) where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? (KernelArg)float.CreateTruncating(value) : double.CreateTruncating(value);

    private static KernelArg Real<T>(double value) where T : unmanaged, IFloatingPointIeee754<T> => Real(T.CreateTruncating(value));

    private static KernelArg Flag(bool value) => value ? 1 : 0;
}

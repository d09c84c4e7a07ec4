using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace DeformEngine.Gpu;

/// <summary>
/// A GPU (or ILGPU's CPU accelerator) as a tensor <see cref="Device"/>: <c>tensor.To(device)</c> moves data here,
/// and it is the backend of their tensor primitives (<see cref="ITensorBackend"/>) and of every operator contract
/// it implements (one partial file per operator, under the operator's name). Its kernels are C# methods that
/// ILGPU compiles on first use, once per precision, and keeps for the device's lifetime. float always; double
/// where <see cref="SupportsDouble"/>. Work runs in issue order on one stream; reading a tensor back waits for it.
/// Safe to use from several threads (calls into the accelerator are serialised); not safe to dispose while in use.
/// </summary>
public abstract partial class GpuDevice : Device, IDisposable
{
    private static readonly Dictionary<string, int> OpenCount = [];
    private readonly Lock _gate = new();
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _placeholder;
    private readonly int _groupsPerMultiprocessor;
    private bool _deterministic;
    private bool _disposed;
    private int _groupSize;

    private protected GpuDevice(Accelerator accelerator, GpuBackend backend, string prefix, int index, string description,
        bool supportsDouble, int groupSize, int groupsPerMultiprocessor)
    {
        Accelerator = accelerator;
        Backend = backend;
        SupportsDouble = supportsDouble;
        _groupSize = groupSize;
        _groupsPerMultiprocessor = groupsPerMultiprocessor;
        string id = $"{prefix}:{index}";
        int instance;
        lock (OpenCount)
            OpenCount[id] = instance = OpenCount.GetValueOrDefault(id) + 1;
        // Two handles on one physical device are two devices (their buffers do not mix): the
        // instance number keeps their names apart in error messages.
        Name = $"{id}{(instance > 1 ? $"#{instance}" : "")} ({description})";
        _placeholder = accelerator.Allocate1D<byte>(16);
    }

    /// <summary>"backend:index" (with "#k" for a second handle on the same device) and the driver's description, for
    /// messages.</summary>
    public override string Name { get; }

    /// <summary>The ILGPU back end the device runs on.</summary>
    public GpuBackend Backend { get; }

    /// <summary>The ILGPU accelerator behind the device.</summary>
    internal Accelerator Accelerator { get; }

    /// <summary>Whether float64 tensors can be computed on (they can always be stored).</summary>
    public bool SupportsDouble { get; }

    /// <summary>Whether <see cref="Deterministic"/> may be set: it needs 64-bit integer atomics.</summary>
    public abstract bool SupportsDeterministic { get; }

    /// <summary>Global memory in bytes as the driver reports it.</summary>
    public long MemoryBytes => Accelerator.MemorySize;

    /// <summary>The most threads one group (CUDA block, OpenCL work-group) may have on this device.</summary>
    public int MaxGroupSize => Accelerator.MaxNumThreadsPerGroup;

    /// <summary>
    /// Threads per group of every launch: a power of two up to <see cref="MaxGroupSize"/> (256 on GPUs; the CPU
    /// accelerator's own size there). The GEMM kernel's tile is the largest square of threads that fits. Results do
    /// not depend on it except where a GEMM tile changes which products a float rounding sees (never the order).
    /// </summary>
    public int GroupSize
    {
        get => _groupSize;
        set
        {
            if (value < 1 || value > MaxGroupSize || (value & (value - 1)) != 0)
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"GroupSize must be a power of two between 1 and {MaxGroupSize} on device '{Name}'.");
            _groupSize = value;
        }
    }

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

    /// <summary>True once <see cref="Dispose()"/> has run; the device's tensors are then unusable.</summary>
    public override bool IsDisposed => _disposed;

    /// <summary>The CUDA and OpenCL devices on this machine that ILGPU can run; empty when there are none. The CPU
    /// accelerator is not listed: <see cref="CpuAcceleratorDevice.Open"/> is always available.</summary>
    public static IReadOnlyList<GpuDeviceInfo> ListDevices() =>
        [.. CudaDevice.ListDevices(), .. OpenCLDevice.ListDevices()];

    /// <summary>Waits until every kernel issued so far has finished.</summary>
    public void Synchronize()
    {
        ThrowIfDisposed();
        lock (_gate)
        {
            Accelerator.Bind();
            Accelerator.Synchronize();
        }
    }

    /// <summary>Releases the device and all memory on it; its tensors become unusable (they throw
    /// <see cref="ObjectDisposedException"/>).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            DisposeResources();
            Accelerator.Dispose();
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what a backend holds besides the accelerator (a cuBLAS handle), before the accelerator goes.</summary>
    private protected virtual void DisposeResources()
    {
    }

    /// <summary>The stream every launch and copy is issued on.</summary>
    private AcceleratorStream Stream => Accelerator.DefaultStream;

    /// <summary>Runs <paramref name="action"/> with the accelerator bound to this thread and no other thread using it.</summary>
    internal void Run(Action action)
    {
        ThrowIfDisposed();
        lock (_gate)
        {
            ThrowIfDisposed();
            Accelerator.Bind();
            action();
        }
    }

    /// <summary>A grid-stride launch over <paramref name="count"/> items: groups of <see cref="GroupSize"/>, at most
    /// a few per multiprocessor (every kernel loops over its items, so fewer threads only means more items each).</summary>
    internal KernelConfig Items(long count)
    {
        long maxGroups = Math.Max(1L, (long)Accelerator.NumMultiprocessors * _groupsPerMultiprocessor);
        long groups = Math.Clamp((count + _groupSize - 1) / _groupSize, 1, maxGroups);
        return new KernelConfig((int)groups, _groupSize);
    }

    /// <summary>The typed view of a buffer of this device.</summary>
    internal ArrayView<T> View<T>(DeviceBuffer buffer, [CallerArgumentExpression(nameof(buffer))] string argumentName = "")
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer, argumentName);
        ThrowIfDisposed();
        if (buffer is not GpuDeviceBuffer own || !ReferenceEquals(own.Device, this))
            throw new ArgumentException($"{argumentName}: the buffer lives on '{buffer.Device.Name}', not on '{Name}'.", argumentName);
        return own.View<T>();
    }

    /// <summary>The view of a buffer, or of a small placeholder for an absent one (its kernel flag says not to touch it).</summary>
    internal ArrayView<T> ViewOrPlaceholder<T>(DeviceBuffer? buffer, [CallerArgumentExpression(nameof(buffer))] string argumentName = "")
        where T : unmanaged =>
        buffer is null ? _placeholder.View.AsContiguous().Cast<T>() : View<T>(buffer, argumentName);

    internal void ThrowIfWrongPrecision<T>()
    {
        if (typeof(T) == typeof(double) && !SupportsDouble)
            throw new NotSupportedException($"Device '{Name}' does not support float64 kernels; use float tensors or the CPU.");
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Tensors of {typeof(T).Name} cannot run on device '{Name}'.");
    }
}

namespace DeformEngine.Tests.Support;

/// <summary>
/// One backend selected for a test (see <see cref="TestBackends"/>): where inputs go, how a function is
/// run there with CPU arguments, and which tolerance applies. Disposing it restores
/// <see cref="EngineOptions.UseReferenceKernels"/>.
/// </summary>
public sealed class TestBackend : IDisposable
{
    private readonly bool _savedReferenceKernels = EngineOptions.UseReferenceKernels;
    private readonly bool _switched;
    private bool _disposed;

    internal TestBackend(string name, Device device, bool? referenceKernels)
    {
        Name = name;
        Device = device;
        if (referenceKernels is bool reference)
        {
            EngineOptions.UseReferenceKernels = reference;
            _switched = true;
            Assert.AreEqual(name, OperatorBackends.Cpu.Name, "the row runs on the CPU backend it names");
        }
    }

    public string Name { get; }

    public Device Device { get; }

    public bool IsCpu => Device.IsCpu;

    /// <summary><paramref name="tensor"/> on this backend's device. The move is recorded, so a CPU leaf
    /// stays where it is and receives its gradient there.</summary>
    public Tensor<T> On<T>(Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T> => tensor.To(Device);

    /// <summary><see cref="On{T}(Tensor{T})"/> for an optional argument (an absent bias or mask).</summary>
    public Tensor<T>? OnOrNull<T>(Tensor<T>? tensor) where T : unmanaged, IFloatingPointIeee754<T> => tensor?.To(Device);

    public Tensor<T>[] On<T>(Tensor<T>[] tensors) where T : unmanaged, IFloatingPointIeee754<T> => [.. tensors.Select(On)];

    /// <summary><paramref name="function"/> run on this backend with CPU arguments and a CPU result: what
    /// <see cref="GradCheck"/> differentiates (its perturbed inputs and the projection stay on the CPU).</summary>
    public Func<Tensor<T>[], Tensor<T>> Run<T>(Func<Tensor<T>[], Tensor<T>> function) where T : unmanaged, IFloatingPointIeee754<T> =>
        inputs =>
        {
            var output = function(On(inputs));
            Assert.AreSame(Device, output.Device, $"{Name}: the op runs where its inputs are");
            return output.To(Device.Cpu);
        };

    /// <summary>The entry of <paramref name="tolerance"/> for <typeparamref name="T"/> and this kind of backend.</summary>
    public double Tolerance<T>(Tolerance tolerance) where T : unmanaged, IFloatingPointIeee754<T> =>
        (typeof(T) == typeof(float), IsCpu) switch
        {
            (true, true) => tolerance.CpuFloat,
            (false, true) => tolerance.CpuDouble,
            (true, false) => tolerance.DeviceFloat,
            (false, false) => tolerance.DeviceDouble,
        };

    public override string ToString() => Name;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_switched) EngineOptions.UseReferenceKernels = _savedReferenceKernels;
    }
}

/// <summary>
/// The tolerance of one comparison per precision and kind of backend. The CPU backends add in the orders of
/// managed loops and the blocked GEMM; a device adds in those of its own kernels (atomics, GEMM tiles, tree
/// sums) and rounds exp/log/pow its own way, so a comparison may allow it more. Each test states its
/// values and the reason beside them.
/// </summary>
public readonly record struct Tolerance(double CpuFloat, double CpuDouble, double DeviceFloat, double DeviceDouble)
{
    /// <summary>The same bound on every backend.</summary>
    public static Tolerance Everywhere(double single, double twice) => new(single, twice, single, twice);

    /// <summary>One bound for every backend and precision.</summary>
    public static Tolerance Everywhere(double bound) => new(bound, bound, bound, bound);
}

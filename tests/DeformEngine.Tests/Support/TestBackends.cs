using DeformEngine.Gpu;

namespace DeformEngine.Tests.Support;

/// <summary>
/// The backends an operator test runs on, as DynamicData rows that carry the backend's name:
/// "cpu-reference", "cpu-fast", then each GPU runtime: ILGPU's CPU accelerator ("cpu-accelerator", which runs the
/// GPU kernels on the CPU and so on every machine, CI included), OpenCL and CUDA. <see cref="Open"/> turns a row into a
/// <see cref="TestBackend"/>, or ends the test inconclusive with the reason (no such device, no float64),
/// so that a machine without a runtime reports its rows as skipped rather than passed. A new backend is
/// one more line in <see cref="Registry"/>.
/// </summary>
/// <remarks>The CPU rows switch the process-wide <see cref="EngineOptions.UseReferenceKernels"/>, so a
/// class that uses these rows is marked [DoNotParallelize]: it never runs beside a class that reads the
/// switch.</remarks>
public static class TestBackends
{
    public const string CpuReference = "cpu-reference";
    public const string CpuFast = "cpu-fast";
    public const string CpuAccelerator = "cpu-accelerator";
    public const string OpenCL = "opencl";
    public const string Cuda = "cuda";

    // Groups of 4 threads on 2 simulated multiprocessors: the GEMM kernel's 2×2 tiles still share memory across
    // threads and meet at barriers, which on the CPU accelerator are OS-thread rendezvous (slow when large).
    private const int CpuAcceleratorGroupSize = 4, CpuAcceleratorProcessors = 2;

    private static readonly BackendEntry[] Registry =
    [
        BackendEntry.Cpu(CpuReference, referenceKernels: true),
        BackendEntry.Cpu(CpuFast, referenceKernels: false),
        BackendEntry.Gpu(CpuAccelerator, () => CpuAcceleratorDevice.Open(CpuAcceleratorGroupSize, CpuAcceleratorProcessors)),
        BackendEntry.Gpu(OpenCL, () => OpenCLDevice.Open()),
        BackendEntry.Gpu(Cuda, () => CudaDevice.Open()),
    ];

    /// <summary>Every backend.</summary>
    public static IEnumerable<string> Names => Registry.Select(e => e.Name);

    /// <summary>Every backend but the CPU reference: those that are compared with it.</summary>
    public static IEnumerable<string> Candidates => Names.Where(n => n != CpuReference);

    /// <summary>The GPU backends.</summary>
    public static IEnumerable<string> Gpus => Registry.Where(e => e.OpenDevice is not null).Select(e => e.Name);

    /// <summary>Whether <paramref name="name"/> is a CPU backend (known without opening anything).</summary>
    public static bool IsCpu(string name) => Entry(name).OpenDevice is null;

    /// <summary>One row per backend: (backend).</summary>
    public static IEnumerable<object[]> All => Names.Select(n => new object[] { n });

    /// <summary>One row per backend compared with the reference: (backend).</summary>
    public static IEnumerable<object[]> CandidateRows => Candidates.Select(n => new object[] { n });

    /// <summary>One row per GPU backend: (backend).</summary>
    public static IEnumerable<object[]> GpuRows => Gpus.Select(n => new object[] { n });

    /// <summary>Rows (backend, case…) for every backend and every row of <paramref name="cases"/>.</summary>
    public static IEnumerable<object[]> Cross(IEnumerable<string> backends, IEnumerable<object[]> cases) =>
        from backend in backends from row in cases.ToArray() select (object[])[backend, .. row];

    /// <summary>Rows (backend, case) for every backend and every case.</summary>
    public static IEnumerable<object[]> Cross<TCase>(IEnumerable<string> backends, IEnumerable<TCase> cases) where TCase : notnull =>
        Cross(backends, cases.Select(c => new object[] { c }));

    /// <summary>The backend of a row, selected until the scope is disposed; inconclusive where absent.</summary>
    public static TestBackend Open(string name) => Entry(name).Select();

    /// <summary>Like <see cref="Open"/>, and inconclusive too when <typeparamref name="T"/> is double and
    /// the device cannot compute in it.</summary>
    public static TestBackend Open<T>(string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var backend = Open(name);
        try
        {
            RequirePrecision<T>(backend.Device);
            return backend;
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>The process-wide device of a GPU backend (ILGPU compiles kernels per device and keeps them in
    /// memory only, so tests share it); inconclusive where absent.</summary>
    public static GpuDevice SharedDevice(string name) => Entry(name).Shared();

    /// <summary>A device of its own for a test that changes device state (deterministic mode, disposal).</summary>
    public static GpuDevice OpenNewDevice(string name) => Entry(name).OpenNew();

    public static void RequirePrecision<T>(Device device)
    {
        if (typeof(T) == typeof(double) && device is GpuDevice { SupportsDouble: false } gpu)
            Assert.Inconclusive($"device '{gpu.Name}' has no float64 support");
    }

    private static BackendEntry Entry(string name) =>
        Registry.SingleOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentOutOfRangeException(nameof(name), name, $"expected one of {string.Join(", ", Names)}");

    /// <summary>A backend of the registry: a CPU peer chosen by the reference switch, or a GPU runtime.</summary>
    private sealed class BackendEntry
    {
        private readonly Lazy<(GpuDevice? Device, string? Reason)>? _shared;

        private BackendEntry(string name, bool referenceKernels, Func<GpuDevice>? open)
        {
            Name = name;
            ReferenceKernels = referenceKernels;
            OpenDevice = open;
            if (open is not null) _shared = new(() => TryOpen(open));
        }

        public string Name { get; }
        public bool ReferenceKernels { get; }
        public Func<GpuDevice>? OpenDevice { get; }

        public static BackendEntry Cpu(string name, bool referenceKernels) => new(name, referenceKernels, null);

        public static BackendEntry Gpu(string name, Func<GpuDevice> open) => new(name, false, open);

        public TestBackend Select() => OpenDevice is null
            ? new TestBackend(Name, Device.Cpu, ReferenceKernels)
            : new TestBackend(Name, Shared(), referenceKernels: null);

        public GpuDevice Shared()
        {
            if (_shared is null) throw new InvalidOperationException($"{Name} is not a GPU backend");
            var (device, reason) = _shared.Value;
            return device ?? throw new AssertInconclusiveException(reason ?? $"no {Name} device");
        }

        public GpuDevice OpenNew()
        {
            if (OpenDevice is null) throw new InvalidOperationException($"{Name} is not a GPU backend");
            var (device, reason) = TryOpen(OpenDevice);
            return device ?? throw new AssertInconclusiveException(reason ?? $"no {Name} device");
        }

        private (GpuDevice?, string?) TryOpen(Func<GpuDevice> open)
        {
            try
            {
                return (open(), null);
            }
            catch (NotSupportedException e)
            {
                return (null, $"no {Name} device: {e.Message}");
            }
        }
    }
}

using System.Globalization;
using System.Numerics;
using System.Text;

namespace DeformEngine;

/// <summary>A dense, contiguous, row-major (NCHW) tensor of <c>float</c> or <c>double</c> that can
/// record the operations applied to it for reverse-mode differentiation.</summary>
public sealed partial class Tensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _shape;
    private readonly T[]? _data;
    private readonly DeviceBuffer? _buffer;
    private readonly StorageVersion _version;
    private bool _requiresGrad;

    /// <summary>A tensor over <paramref name="data"/>; <paramref name="version"/> is the storage's write
    /// counter when this is a view of an existing tensor, null for new storage.</summary>
    internal Tensor(T[] data, int[] shape, StorageVersion? version = null)
    {
        _shape = shape;
        _data = data;
        _version = version ?? new StorageVersion();
        Numel = data.Length;
    }

    internal Tensor(DeviceBuffer buffer, int[] shape, StorageVersion? version = null)
    {
        _shape = shape;
        _buffer = buffer;
        _version = version ?? new StorageVersion();
        Numel = ShapeMath.Numel(shape);
    }

    /// <summary>The dimensions, outermost first. A copy: changing it does not change the tensor.</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>Number of dimensions (0 for a scalar).</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements: the product of the dimensions (1 for a scalar).</summary>
    public int Numel { get; }

    /// <summary>Size of one dimension (negative counts from the end).</summary>
    public int Dim(int axis) => _shape[ShapeMath.NormalizeAxis(axis, _shape.Length)];

    internal ReadOnlySpan<int> ShapeSpan => _shape;

    internal int[] ShapeArray => _shape;

    /// <summary>Where the data lives: <see cref="Device.Cpu"/> unless the tensor was moved with
    /// <see cref="To"/>.</summary>
    public Device Device => _buffer?.Device ?? Device.Cpu;

    /// <summary>The backend that runs the tensor primitives of this tensor's device.</summary>
    internal ITensorBackend Backend => TensorBackends.For(Device);

    /// <summary>The array or device buffer behind this tensor; views (Detach, reshapes) share it.</summary>
    internal object Storage => (object?)_data ?? _buffer!;

    /// <summary>The storage of a tensor that lives on a non-CPU device.</summary>
    public DeviceBuffer? Buffer => _buffer;

    /// <summary>The gradient accumulated by <see cref="Backward(Tensor{T}?, bool)"/> (leaves only).</summary>
    public Tensor<T>? Grad { get; set; }

    /// <summary>The operation that produced this tensor, or null for a leaf.</summary>
    internal GraphNode<T>? Node { get; set; }

    /// <summary>True for a tensor no recorded operation produced (an input, a parameter, a detached tensor).</summary>
    public bool IsLeaf => Node is null;

    /// <summary>Name of the operation that produced this tensor ("leaf" for inputs).</summary>
    public string Producer => Node?.OpName ?? "leaf";

    /// <summary>Whether gradients flow to this tensor. Settable on leaves only; results of
    /// operations require a gradient when any input does.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!IsLeaf)
                throw new InvalidOperationException(
                    $"RequiresGrad can only be set on leaf tensors; this tensor was produced by '{Node!.OpName}'. Use Detach() first.");
            _requiresGrad = value;
        }
    }

    internal void MarkRequiresGrad() => _requiresGrad = true;

    /// <summary>The write version of this tensor's storage: it changes whenever the data may have been
    /// written through the engine (<see cref="AsSpan"/>, the indexer's setter, in-place updates by
    /// optimizers, module state loads, gradient accumulation) and is shared by views of the same storage.
    /// Kernels key derived data on it (the fast CPU DeformConv2d keeps its re-laid-out weight while the
    /// version stays the same).</summary>
    /// <remarks>The version moves when <see cref="AsSpan"/> is called, not when the span is written: a
    /// span kept across an operator call and written afterwards is not seen. Take the span again (or
    /// use the indexer) after such a call.</remarks>
    public long Version => _version.Value;

    /// <summary>The data of a CPU tensor, writable; counts as a write (<see cref="Version"/>). Writing
    /// through it bypasses autograd.</summary>
    public Span<T> AsSpan()
    {
        var data = CpuData;
        MarkWritten();
        return data;
    }

    /// <summary>The data of a CPU tensor, read-only: unlike <see cref="AsSpan"/> it leaves
    /// <see cref="Version"/> alone, so caches keyed on it stay valid.</summary>
    public ReadOnlySpan<T> AsReadOnlySpan() => CpuData;

    /// <summary>Records that the storage was (or is about to be) written outside the engine's own
    /// tracked paths, so that data derived from it is recomputed.</summary>
    internal void MarkWritten() => _version.Increment();

    /// <summary>The storage's write counter, for views that share it.</summary>
    internal StorageVersion StorageVersion => _version;

    internal T[] CpuData => _data ?? throw new NotSupportedException(
        $"This tensor lives on '{Device.Name}' and the operation runs on the CPU only; move it with To(Device.Cpu) first.");

    // ---- construction -------------------------------------------------------------------

    /// <summary>Copies <paramref name="data"/> into a new tensor of the given shape.</summary>
    public static Tensor<T> FromArray(T[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        int numel = ShapeMath.Numel(shape);
        if (numel != data.Length)
            throw new ArgumentException(
                $"data: shape {ShapeMath.Format(shape)} needs {numel} elements, got {data.Length}.", nameof(data));
        return new Tensor<T>((T[])data.Clone(), (int[])shape.Clone());
    }

    /// <summary>Wraps <paramref name="data"/> without copying; the tensor owns it from now on.</summary>
    internal static Tensor<T> Wrap(T[] data, params int[] shape) => new(data, shape);

    /// <summary>A new CPU tensor of <paramref name="shape"/> filled with 0.</summary>
    /// <exception cref="ArgumentException">A dimension is negative, or the element count does not fit an
    /// array.</exception>
    public static Tensor<T> Zeros(params int[] shape) => new(new T[ShapeMath.Numel(shape)], (int[])shape.Clone());

    /// <summary>A new CPU tensor of <paramref name="shape"/> filled with 1.</summary>
    /// <exception cref="ArgumentException">A dimension is negative, or the element count does not fit an
    /// array.</exception>
    public static Tensor<T> Ones(params int[] shape) => Full(T.One, shape);

    /// <summary>A new CPU tensor of <paramref name="shape"/> with every element <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentException">A dimension is negative, or the element count does not fit an
    /// array.</exception>
    public static Tensor<T> Full(T value, params int[] shape)
    {
        var data = new T[ShapeMath.Numel(shape)];
        Array.Fill(data, value);
        return new Tensor<T>(data, (int[])shape.Clone());
    }

    /// <summary>A 0-dimensional tensor holding one value.</summary>
    public static Tensor<T> Scalar(T value) => new([value], []);

    /// <summary>Standard normal values from a seeded, platform-independent generator.</summary>
    public static Tensor<T> Randn(long seed, params int[] shape)
    {
        var rng = new SeededRandom(seed);
        var data = new T[ShapeMath.Numel(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = T.CreateChecked(rng.NextNormal());
        return new Tensor<T>(data, (int[])shape.Clone());
    }

    /// <summary>Uniform values in [0, 1) from a seeded, platform-independent generator.</summary>
    public static Tensor<T> Rand(long seed, params int[] shape)
    {
        var rng = new SeededRandom(seed);
        var data = new T[ShapeMath.Numel(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = T.CreateChecked(rng.NextDouble());
        return new Tensor<T>(data, (int[])shape.Clone());
    }

    /// <summary>A new CPU tensor of zeros with <paramref name="other"/>'s shape.</summary>
    public static Tensor<T> ZerosLike(Tensor<T> other) => Zeros(other._shape);

    /// <summary>A copy of the elements in row-major order (downloaded from the device for a non-CPU tensor).</summary>
    public T[] ToArray()
    {
        if (_data is not null) return (T[])_data.Clone();
        var result = new T[Numel];
        _buffer!.Download<T>(result);
        return result;
    }

    /// <summary>The single value of a one-element tensor.</summary>
    public T Item()
    {
        if (Numel != 1)
            throw new InvalidOperationException($"Item() needs a one-element tensor, this one has shape {ShapeMath.Format(_shape)}.");
        return _data is not null ? _data[0] : ToArray()[0];
    }

    // ---- element access ----------------------------------------------------------------

    /// <summary>The element at one index per dimension, of a CPU tensor; setting it bypasses autograd.</summary>
    /// <exception cref="ArgumentException">The number of indices differs from <see cref="Rank"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside its dimension.</exception>
    /// <exception cref="NotSupportedException">The tensor lives on a non-CPU device.</exception>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public T this[params int[] index]
    {
        get => CpuData[FlatIndex(index)];
        set
        {
            CpuData[FlatIndex(index)] = value;
            MarkWritten();
        }
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != _shape.Length)
            throw new ArgumentException(
                $"index: expected {_shape.Length} indices for shape {ShapeMath.Format(_shape)}, got {index.Length}.", nameof(index));
        int flat = 0;
        for (int d = 0; d < index.Length; d++)
        {
            if ((uint)index[d] >= (uint)_shape[d])
                throw new ArgumentOutOfRangeException(nameof(index), index[d],
                    $"index {index[d]} is out of range for dimension {d} of size {_shape[d]}.");
            flat = flat * _shape[d] + index[d];
        }
        return flat;
    }

    // ---- graph control -----------------------------------------------------------------

    /// <summary>A tensor sharing this one's data with no history and no gradient requirement.</summary>
    public Tensor<T> Detach() => View(_shape);

    /// <summary>A copy of the data with no history.</summary>
    public Tensor<T> Clone() => Backend.Clone(this);

    /// <summary>Drops the accumulated gradient (<see cref="Grad"/> = null), so the next backward starts from
    /// zero.</summary>
    public void ZeroGrad() => Grad = null;

    /// <summary>Moves (copies) the tensor to <paramref name="device"/>; history is kept so that
    /// gradients flow back to the source device.</summary>
    public Tensor<T> To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (ReferenceEquals(device, Device)) return this;
        Tensor<T> result;
        if (device.IsCpu)
        {
            result = new Tensor<T>(ToArray(), (int[])_shape.Clone());
        }
        else
        {
            device.ThrowIfDisposed();
            var buffer = device.Allocate<T>(Numel);
            buffer.Upload<T>(ToArray());
            result = new Tensor<T>(buffer, (int[])_shape.Clone());
        }
        var source = Device;
        return Autograd.Record(result, "To", (grad, _) => [grad.To(source)], this);
    }

    /// <summary>Uninitialised storage for a tensor of <paramref name="shape"/> on a non-CPU <paramref name="device"/>.</summary>
    internal static Tensor<T> Uninitialized(Device device, params int[] shape) =>
        new(device.Allocate<T>(ShapeMath.Numel(shape)), (int[])shape.Clone());

    /// <summary>A tensor of zeros on <paramref name="device"/> (CPU included).</summary>
    internal static Tensor<T> ZerosOn(Device device, params int[] shape) => TensorBackends.For(device).Full(T.Zero, shape);

    /// <summary>Copies <paramref name="source"/>'s values into this tensor's storage, unrecorded, from
    /// any device: the in-place update of parameters, optimizer state and module buffers.</summary>
    internal void Assign(Tensor<T> source)
    {
        ShapeMath.RequireShape(nameof(source), source._shape, _shape);
        var local = ReferenceEquals(source.Device, Device) ? source : source.Detach().To(Device.Cpu).To(Device);
        Backend.Assign(this, local);
        MarkWritten();
    }

    private static void RequireSameDevice(Tensor<T> a, Tensor<T> b, string argumentName)
    {
        if (!ReferenceEquals(a.Device, b.Device))
            throw new ArgumentException(
                $"{argumentName}: expected a tensor on '{a.Device.Name}', got one on '{b.Device.Name}'.", argumentName);
    }

    /// <summary>Type, shape, device, gradient state and up to six leading values, for debugging.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Tensor<").Append(typeof(T).Name).Append('>').Append(ShapeMath.Format(_shape));
        if (!Device.IsCpu) sb.Append(" on ").Append(Device.Name);
        if (_requiresGrad) sb.Append(IsLeaf ? " requiresGrad" : $" producer={Node!.OpName}");
        if (_data is not null)
        {
            const int shown = 6;
            sb.Append(" [");
            for (int i = 0; i < Math.Min(shown, Numel); i++)
            {
                if (i > 0) sb.Append(", ");
                sb.Append(double.CreateChecked(_data[i]).ToString("G6", CultureInfo.InvariantCulture));
            }
            if (Numel > shown) sb.Append(", …");
            sb.Append(']');
        }
        return sb.ToString();
    }
}

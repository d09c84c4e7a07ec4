using System.Runtime.CompilerServices;
using DeformEngine.Cpu;

namespace DeformEngine.Kernels;

/// <summary>The fast path's forms of a DeformConv2d weight, kept per weight tensor while its data
/// stays the same: for the forward (float and double), each group's block of the weight packed for the
/// product with its columns taken in the kernel-point-major order [O, K, Cg] of the column rows
/// (<see cref="GemmPackedA{T}"/>, re-ordered while packing); for the backward's gradient-columns
/// product, the weight permuted to [O, K, Cg] (<see cref="ConvGemm.ToKernelPointMajor{T}"/>). Each is
/// built when first needed: at inference a forward neither permutes nor packs an unchanged weight, and
/// only the packed copy is held; in training the backward reuses what it built for the same version.</summary>
/// <remarks>
/// Forms are used only while the tensor's <see cref="Tensor{T}.Version"/>, its storage and its shape are
/// those they were built from; any write through the engine moves the version, so the next call rebuilds.
/// A training step writes the weight every step, so a rebuild goes into the previous version's arrays
/// when no call reads them any more (a call holds a <see cref="Lease{T}"/> while it does): fresh arrays
/// each step cost page faults and collections (N2 C512 14², float: a step right after a write took 7.9–8.9 ms longer
/// than one with the weight unchanged, and 3.5–3.8 ms with this and the panel-by-panel packing; docs/benchmarks.md,
/// "Tenth pass"). Forms still read by another call are left to it and the rebuild allocates. The
/// table holds its tensors weakly: the forms live as long as their weight tensor.
/// </remarks>
internal static class DeformConv2dWeights
{
    private static readonly ConditionalWeakTable<object, object> s_slots = new();

    /// <summary>One weight tensor's current forms; its lock guards them and their readers.</summary>
    internal sealed class Slot<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Forms<T>? Current;
    }

    /// <summary>The forms built from one version of the weight's data, and how many calls read them.</summary>
    internal sealed class Forms<T>(long version, T[] storage, int[] shape, int groups) where T : unmanaged, IFloatingPointIeee754<T>
    {
        public long Version { get; private set; } = version;
        public T[] Storage { get; private set; } = storage;
        public int[] Shape { get; } = shape;
        public int Groups { get; } = groups;
        public T[]? Permuted { get; set; }
        public GemmPackedA<T>[]? Packed { get; set; }
        public bool PermutedCurrent { get; set; }
        public bool PackedCurrent { get; set; }
        public int Readers { get; set; }

        public bool Matches(Tensor<T> weight, long version, int groups) =>
            Version == version && ReferenceEquals(Storage, weight.CpuData) && SameLayout(weight, groups);

        public bool SameLayout(Tensor<T> weight, int groups) => Groups == groups && Shape.AsSpan().SequenceEqual(weight.ShapeSpan);

        /// <summary>Marks both forms stale for a new version, keeping their arrays to be built into.</summary>
        public void Renew(long version, T[] storage)
        {
            Version = version;
            Storage = storage;
            PermutedCurrent = PackedCurrent = false;
        }
    }

    /// <summary>The forms one call reads, held until it disposes the lease (so that a rebuild for a newer version
    /// does not write into them meanwhile).</summary>
    public readonly struct Lease<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Slot<T>? _slot;
        private readonly Forms<T>? _forms;

        internal Lease(Slot<T> slot, Forms<T> forms)
        {
            _slot = slot;
            _forms = forms;
            Permuted = forms.PermutedCurrent ? forms.Permuted : null;
            Packed = forms.PackedCurrent ? forms.Packed : null;
        }

        /// <summary>The weight [O, Cg, kh, kw] permuted to [O, K, Cg], if the lease asked for it.</summary>
        public T[]? Permuted { get; }

        /// <summary>Per group, op(A) = that group's rows of the permuted weight (O/groups × K·Cg), packed for the forward
        /// product, if the lease asked for it.</summary>
        public GemmPackedA<T>[]? Packed { get; }

        public void Dispose()
        {
            if (_slot is null)
                return;
            lock (_slot)
                _forms!.Readers--;
        }
    }

    /// <summary>Whether the forward product can take a packed weight (float and double GEMMs).</summary>
    public static bool CanPack<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double);

    /// <summary>What the forward reads: the packed weight, or (for a type the GEMM cannot pack) the permuted one.</summary>
    public static Lease<T> ForForward<T>(Tensor<T> weight, int groups) where T : unmanaged, IFloatingPointIeee754<T> =>
        Acquire(weight, groups, packed: CanPack<T>(), permuted: !CanPack<T>());

    /// <summary>What the backward's gradient-columns product reads: the permuted weight.</summary>
    public static Lease<T> ForBackward<T>(Tensor<T> weight, int groups) where T : unmanaged, IFloatingPointIeee754<T> =>
        Acquire(weight, groups, packed: false, permuted: true);

    private static Lease<T> Acquire<T>(Tensor<T> weight, int groups, bool packed, bool permuted) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Read before the data: a write racing with this call moves the version past what is stored.
        long version = weight.Version;
        var slot = (Slot<T>)s_slots.GetValue(weight, static _ => new Slot<T>());
        lock (slot)
        {
            var forms = slot.Current;
            if (forms is null || !forms.Matches(weight, version, groups))
            {
                if (forms is { Readers: 0 } && forms.SameLayout(weight, groups))
                    forms.Renew(version, weight.CpuData);
                else
                    slot.Current = forms = new Forms<T>(version, weight.CpuData, weight.Shape, groups);
            }
            if (permuted && !forms.PermutedCurrent)
            {
                forms.Permuted = Permute(weight, forms.Permuted);
                forms.PermutedCurrent = true;
            }
            if (packed && !forms.PackedCurrent)
            {
                forms.Packed = Pack(weight, groups, forms.Packed);
                forms.PackedCurrent = true;
            }
            forms.Readers++;
            return new Lease<T>(slot, forms);
        }
    }

    private static T[] Permute<T>(Tensor<T> weight, T[]? reuse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outChannels = weight.Dim(0), groupChannels = weight.Dim(1), kernelPoints = weight.Dim(2) * weight.Dim(3);
        var permuted = reuse ?? GC.AllocateUninitializedArray<T>(weight.Numel);
        ConvGemm.ToKernelPointMajor<T>(weight.CpuData, outChannels, groupChannels, kernelPoints, permuted);
        return permuted;
    }

    /// <summary>Each group's [O/groups, Cg·K] block of the weight packed with its columns in the order
    /// (k, c'): column k·Cg + c' of op(A) is column c'·K + k of the stored row.</summary>
    private static GemmPackedA<T>[] Pack<T>(Tensor<T> weight, int groups, GemmPackedA<T>[]? reuse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int groupChannels = weight.Dim(1), kernelPoints = weight.Dim(2) * weight.Dim(3);
        int og = weight.Dim(0) / groups, kg = groupChannels * kernelPoints;
        var order = new int[kg];
        for (int k = 0; k < kernelPoints; k++)
            for (int c = 0; c < groupChannels; c++)
                order[k * groupChannels + c] = c * kernelPoints + k;
        var packed = reuse ?? new GemmPackedA<T>[groups];
        for (int g = 0; g < groups; g++)
            packed[g] = Gemm.PackA<T>(false, og, kg, weight.CpuData.AsSpan(g * og * kg, og * kg), kg, order, packed[g]);
        return packed;
    }
}

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
/// An entry is used only while the tensor's <see cref="Tensor{T}.Version"/>, its storage and its
/// shape are those it was built from; any write through the engine moves the version, so the next call
/// rebuilds. The table holds its tensors weakly: an entry lives as long as its weight tensor.
/// </remarks>
internal static class DeformConv2dWeights
{
    private static readonly ConditionalWeakTable<object, object> s_entries = new();

    private sealed class Entry<T>(long version, T[] storage, int[] shape, int groups, T[]? permuted, GemmPackedA<T>[]? packed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public long Version { get; } = version;
        public T[] Storage { get; } = storage;
        public int[] Shape { get; } = shape;
        public int Groups { get; } = groups;
        public T[]? Permuted { get; } = permuted;
        public GemmPackedA<T>[]? Packed { get; } = packed;

        public bool Matches(Tensor<T> weight, long version, int groups) =>
            Version == version && ReferenceEquals(Storage, weight.CpuData) && Groups == groups && Shape.AsSpan().SequenceEqual(weight.ShapeSpan);
    }

    /// <summary>The weight [O, Cg, kh, kw] permuted to [O, K, Cg].</summary>
    public static T[] Permuted<T>(Tensor<T> weight, int groups) where T : unmanaged, IFloatingPointIeee754<T> =>
        Get(weight, groups, permuted: true).Permuted!;

    /// <summary>Per group, op(A) = that group's rows of the permuted weight (O/groups × K·Cg), packed for
    /// the forward product.</summary>
    public static GemmPackedA<T>[] PackedForward<T>(Tensor<T> weight, int groups) where T : unmanaged, IFloatingPointIeee754<T> =>
        Get(weight, groups, permuted: false).Packed!;

    /// <summary>Whether the forward product can take a packed weight (float and double GEMMs).</summary>
    public static bool CanPack<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double);

    private static Entry<T> Get<T>(Tensor<T> weight, int groups, bool permuted) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Read before the data: a write racing with this call moves the version past what is stored.
        long version = weight.Version;
        var entry = s_entries.TryGetValue(weight, out var found) && found is Entry<T> e && e.Matches(weight, version, groups) ? e : null;
        if (entry is not null && (permuted ? entry.Permuted is not null : entry.Packed is not null))
            return entry;
        var fresh = new Entry<T>(version, weight.CpuData, weight.Shape, groups,
            permuted ? Permute(weight) : entry?.Permuted,
            permuted ? entry?.Packed : Pack(weight, groups));
        s_entries.AddOrUpdate(weight, fresh);
        return fresh;
    }

    private static T[] Permute<T>(Tensor<T> weight) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outChannels = weight.Dim(0), groupChannels = weight.Dim(1), kernelPoints = weight.Dim(2) * weight.Dim(3);
        var permuted = GC.AllocateUninitializedArray<T>(weight.Numel);
        ConvGemm.ToKernelPointMajor<T>(weight.CpuData, outChannels, groupChannels, kernelPoints, permuted);
        return permuted;
    }

    /// <summary>Each group's [O/groups, Cg·K] block of the weight packed with its columns in the order
    /// (k, c'): column k·Cg + c' of op(A) is column c'·K + k of the stored row.</summary>
    private static GemmPackedA<T>[] Pack<T>(Tensor<T> weight, int groups) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int groupChannels = weight.Dim(1), kernelPoints = weight.Dim(2) * weight.Dim(3);
        int og = weight.Dim(0) / groups, kg = groupChannels * kernelPoints;
        var order = new int[kg];
        for (int k = 0; k < kernelPoints; k++)
            for (int c = 0; c < groupChannels; c++)
                order[k * groupChannels + c] = c * kernelPoints + k;
        var packed = new GemmPackedA<T>[groups];
        for (int g = 0; g < groups; g++)
            packed[g] = Gemm.PackA<T>(false, og, kg, weight.CpuData.AsSpan(g * og * kg, og * kg), kg, order);
        return packed;
    }
}

using System.Runtime.CompilerServices;
using DeformEngine.Cpu;

namespace DeformEngine.Kernels;

/// <summary>The fast path's forms of a DeformConv2d weight, kept per weight tensor while its data
/// stays the same: the weight permuted to [O, K, Cg] (<see cref="ConvGemm.ToKernelPointMajor{T}"/>,
/// read by the backward's gradient-columns product) and, for float and double, each group's block of
/// it packed for the forward product (<see cref="GemmPackedA{T}"/>). At inference a forward then
/// neither permutes nor packs the weight; in training the backward reuses what its forward built.</summary>
/// <remarks>
/// An entry is used only while the tensor's <see cref="Tensor{T}.Version"/>, its storage and its
/// shape are those it was built from; any write through the engine moves the version, so the next call
/// rebuilds. The table holds its tensors weakly: an entry lives as long as its weight tensor.
/// <para>Memory: one permuted copy of the weight and, once a forward ran, one packed copy.</para>
/// </remarks>
internal static class DeformConv2dWeights
{
    private static readonly ConditionalWeakTable<object, object> s_entries = new();

    private sealed class Entry<T>(long version, T[] storage, int[] shape, int groups, T[] permuted, GemmPackedA<T>[]? packed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public long Version { get; } = version;
        public T[] Storage { get; } = storage;
        public int[] Shape { get; } = shape;
        public int Groups { get; } = groups;
        public T[] Permuted { get; } = permuted;
        public GemmPackedA<T>[]? Packed { get; } = packed;

        public bool Matches(Tensor<T> weight, long version, int groups) =>
            Version == version && ReferenceEquals(Storage, weight.CpuData) && Groups == groups && Shape.AsSpan().SequenceEqual(weight.ShapeSpan);
    }

    /// <summary>The weight [O, Cg, kh, kw] permuted to [O, K, Cg].</summary>
    public static T[] Permuted<T>(Tensor<T> weight, int groups) where T : unmanaged, IFloatingPointIeee754<T> =>
        Get(weight, groups, packed: false).Permuted;

    /// <summary>Per group, op(A) = the permuted weight's rows of that group (O/groups × K·Cg),
    /// packed for the forward product.</summary>
    public static GemmPackedA<T>[] PackedForward<T>(Tensor<T> weight, int groups) where T : unmanaged, IFloatingPointIeee754<T> =>
        Get(weight, groups, packed: true).Packed!;

    /// <summary>Whether the forward product can take a packed weight (float and double GEMMs).</summary>
    public static bool CanPack<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double);

    private static Entry<T> Get<T>(Tensor<T> weight, int groups, bool packed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Read before the data: a write racing with this call moves the version past what is stored.
        long version = weight.Version;
        if (s_entries.TryGetValue(weight, out var found) && found is Entry<T> entry && entry.Matches(weight, version, groups)
            && (!packed || entry.Packed is not null))
            return entry;
        var old = found as Entry<T>;
        T[] permuted = old is not null && old.Matches(weight, version, groups) ? old.Permuted : Permute(weight);
        var fresh = new Entry<T>(version, weight.CpuData, weight.Shape, groups, permuted, packed ? Pack(permuted, weight, groups) : null);
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

    private static GemmPackedA<T>[] Pack<T>(T[] permuted, Tensor<T> weight, int groups) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int og = weight.Dim(0) / groups, kg = weight.Dim(1) * weight.Dim(2) * weight.Dim(3);
        var packed = new GemmPackedA<T>[groups];
        for (int g = 0; g < groups; g++)
            packed[g] = Gemm.PackA<T>(false, og, kg, permuted.AsSpan(g * og * kg, og * kg), kg);
        return packed;
    }
}

using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>Rank, offsets and counts of the strided kernels; the shape and strides themselves travel in a small
/// int table (<c>geometry</c>), one array after the other.</summary>
internal readonly record struct StridedArgs(int Rank, long SourceOffset, long DestinationOffset, long Count);

/// <summary>The kept and reduced dimensions of <see cref="StridedGpuKernels.Sum{T, R}"/>.</summary>
internal readonly record struct StridedSumArgs(int KeptRank, int ReducedRank, long ReducedCount, long Count);

/// <summary>
/// Strided kernels behind Core's <c>Ops/Tensor.Shape.cs</c> (permute, concatenate, slice, broadcast), the
/// broadcasting of <c>Ops/Tensor.Binary.cs</c> and the axis reductions of <c>Ops/Tensor.Reduce.cs</c>.
/// </summary>
internal static class StridedGpuKernels
{
    /// <summary>geometry: shape[rank], source strides[rank], destination strides[rank].</summary>
    public static void Copy<T, R>(ArrayView<T> x, ArrayView<T> y, ArrayView<int> geometry, StridedArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        int rank = g.Rank;
        for (long i = GridLoop.First; i < g.Count; i += GridLoop.Stride)
        {
            long rest = i, source = g.SourceOffset, destination = g.DestinationOffset;
            for (int d = rank - 1; d >= 0; d--)
            {
                long index = rest % geometry[d];
                rest /= geometry[d];
                source += index * geometry[rank + d];
                destination += index * geometry[2 * rank + d];
            }
            y[destination] = x[source];
        }
    }

    /// <summary>y (row-major over the shape) = a op b; geometry: shape[rank], a strides[rank], b strides[rank];
    /// function: <c>BinaryFunction</c> 0 … 3 (add, subtract, multiply, divide).</summary>
    public static void Binary<T, R>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> y, ArrayView<int> geometry, int function, StridedArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        int rank = g.Rank;
        for (long i = GridLoop.First; i < g.Count; i += GridLoop.Stride)
        {
            long rest = i, ai = 0, bi = 0;
            for (int d = rank - 1; d >= 0; d--)
            {
                long index = rest % geometry[d];
                rest /= geometry[d];
                ai += index * geometry[rank + d];
                bi += index * geometry[2 * rank + d];
            }
            T u = a[ai], v = b[bi];
            y[g.DestinationOffset + i] = function == 0 ? u + v : function == 1 ? u - v : function == 2 ? u * v : u / v;
        }
    }

    /// <summary>y[i] (row-major over the kept shape) = Σ_j x[kept offset of i + reduced offset of j], j in row-major
    /// order, as the CPU adds. geometry: kept shape, kept strides, reduced shape, reduced strides.</summary>
    public static void Sum<T, R>(ArrayView<T> x, ArrayView<T> y, ArrayView<int> geometry, StridedSumArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        int kept = g.KeptRank, reduced = g.ReducedRank;
        for (long i = GridLoop.First; i < g.Count; i += GridLoop.Stride)
        {
            long rest = i, start = 0;
            for (int d = kept - 1; d >= 0; d--)
            {
                start += (rest % geometry[d]) * geometry[kept + d];
                rest /= geometry[d];
            }
            T sum = T.Zero;
            for (long j = 0; j < g.ReducedCount; j++)
            {
                long r = j, offset = start;
                for (int e = reduced - 1; e >= 0; e--)
                {
                    offset += (r % geometry[2 * kept + e]) * geometry[2 * kept + reduced + e];
                    r /= geometry[2 * kept + e];
                }
                sum += x[offset];
            }
            y[i] = sum;
        }
    }
}

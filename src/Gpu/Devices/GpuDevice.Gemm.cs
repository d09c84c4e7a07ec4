using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The batched GEMM kernel (<see cref="GemmKernels"/>) that the products of Core and of the
/// convolutions run on.</summary>
public abstract partial class GpuDevice
{
    internal void BatchedGemm<T>(int m, int n, int k, int batchOuter, int batchInner, DeviceMatrix a, DeviceMatrix b, T beta, DeviceMatrix c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m < 0 || n < 0 || k < 0 || batchOuter < 0 || batchInner < 1)
            throw new ArgumentOutOfRangeException(nameof(m), $"Gemm sizes must be non-negative (batchInner positive), got m={m}, n={n}, k={k}, batch {batchOuter}×{batchInner}.");
        if (c.Transposed) throw new ArgumentException("c: the result cannot be transposed.", nameof(c));
        long tiles = (long)((m + GemmKernels.TileSize - 1) / GemmKernels.TileSize) * ((n + GemmKernels.TileSize - 1) / GemmKernels.TileSize);
        long groups = tiles * batchOuter * batchInner;
        Kernel<T>(GemmKernels.SourceName, GemmKernels.Source, "gemm").Launch(groups * GemmKernels.GroupSize,
        [
            Flag(a.Transposed), Flag(b.Transposed), m, n, k, batchInner,
            Native(a.Buffer), a.Offset, a.Ld, a.StrideOuter, a.StrideInner,
            Native(b.Buffer), b.Offset, b.Ld, b.StrideOuter, b.StrideInner,
            Real(beta),
            Native(c.Buffer), c.Offset, c.Ld, c.StrideOuter, c.StrideInner,
        ], GemmKernels.GroupSize);
    }
}

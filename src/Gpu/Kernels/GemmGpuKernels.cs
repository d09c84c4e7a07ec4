using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>Sizes, transposes and batch strides of <see cref="GemmGpuKernels.Tiled{T, R}"/>. Batch entry
/// b = outer·BatchInner + inner reads A at AOffset + outer·AOuter + inner·AInner (B and C likewise); TransA: op(A) = Aᵀ
/// with A stored k×m, leading dimension Lda.</summary>
internal readonly record struct GemmArgs(int M, int N, int K, int BatchInner, long Batches,
    int TransA, long AOffset, int Lda, long AOuter, long AInner,
    int TransB, long BOffset, int Ldb, long BOuter, long BInner,
    long COffset, int Ldc, long COuter, long CInner, int Tile, int Depth);

/// <summary>
/// The tiled, batched GEMM (the device side of Core's <c>Cpu/Gemm.cs</c>): C = op(A)·op(B) + beta·C. A group of
/// Tile × Tile threads computes one Tile × Tile block of one C at a time (looping over blocks: grid-stride), staging
/// Tile × Depth of A and Depth × Tile of B in shared memory between two barriers. Every C element is summed over
/// p = 0, 1, … k−1 in order, so the result does not depend on the launch and matches a sequential loop.
/// </summary>
internal static class GemmGpuKernels
{
    public static void Tiled<T, R>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, T beta, GemmArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        ArrayView<T> shared = SharedMemory.GetDynamic<T>();
        int tile = g.Tile, depth = g.Depth, threads = tile * tile, stage = tile * depth;
        int lid = Group.IdxX;
        int ty = lid / tile, tx = lid % tile;
        int tilesM = (g.M + tile - 1) / tile, tilesN = (g.N + tile - 1) / tile;
        long perMatrix = (long)tilesM * tilesN;
        for (long job = Grid.IdxX; job < g.Batches * perMatrix; job += Grid.DimX)
        {
            long batch = job / perMatrix, block = job % perMatrix;
            long outer = batch / g.BatchInner, inner = batch % g.BatchInner;
            int row0 = (int)(block / tilesN) * tile, col0 = (int)(block % tilesN) * tile;
            long baseA = g.AOffset + outer * g.AOuter + inner * g.AInner;
            long baseB = g.BOffset + outer * g.BOuter + inner * g.BInner;
            T sum = T.Zero;
            for (int p0 = 0; p0 < g.K; p0 += depth)
            {
                // Neighbouring threads read neighbouring addresses of whichever way the operand is stored;
                // cells outside the matrix load 0, which adds nothing. Every thread reaches both barriers.
                for (int e = lid; e < stage; e += threads)
                {
                    int r = g.TransA != 0 ? e % tile : e / depth, q = g.TransA != 0 ? e / tile : e % depth;
                    int row = row0 + r, p = p0 + q;
                    shared[r * depth + q] = row < g.M && p < g.K
                        ? a[g.TransA != 0 ? baseA + (long)p * g.Lda + row : baseA + (long)row * g.Lda + p]
                        : T.Zero;
                }
                for (int e = lid; e < stage; e += threads)
                {
                    int q = g.TransB != 0 ? e % depth : e / tile, col = g.TransB != 0 ? e / depth : e % tile;
                    int p = p0 + q, column = col0 + col;
                    shared[stage + q * tile + col] = p < g.K && column < g.N
                        ? b[g.TransB != 0 ? baseB + (long)column * g.Ldb + p : baseB + (long)p * g.Ldb + column]
                        : T.Zero;
                }
                Group.Barrier();
                int steps = Math.Min(depth, g.K - p0);
                for (int q = 0; q < steps; q++)
                    sum += shared[ty * depth + q] * shared[stage + q * tile + tx];
                Group.Barrier();
            }
            int rowC = row0 + ty, colC = col0 + tx;
            if (rowC < g.M && colC < g.N)
            {
                long index = g.COffset + outer * g.COuter + inner * g.CInner + (long)rowC * g.Ldc + colC;
                // beta = 0 does not read C, so stale NaNs in a fresh buffer do not leak in.
                c[index] = beta == T.Zero ? sum : sum + beta * c[index];
            }
        }
    }
}

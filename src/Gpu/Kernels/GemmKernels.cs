namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Tiled, batched GEMM (the device side of Core's <c>Cpu/Gemm.cs</c>): C = op(A)·op(B) + beta·C.
/// One work-group of <see cref="TileSize"/>² work-items computes one TILE×TILE block of one C;
/// A and B tiles are staged in LOCAL memory. Every C element is summed over p = 0, 1, … k−1 in
/// order, so the result does not depend on the launch and matches a sequential loop.
/// </summary>
public static class GemmKernels
{
    public const string SourceName = "Gemm.cl";

    public const int TileSize = 16;

    /// <summary>Work-items per group: one per element of a tile.</summary>
    public const int GroupSize = TileSize * TileSize;

    public const string Source = """
        #define TILE 16

        /* Batch entry b = outer·batch_inner + inner reads A at a_offset + outer·a_outer + inner·a_inner
           (B and C likewise). trans_a: op(A) = Aᵀ, A stored k×m with leading dimension lda. */
        KERNEL void gemm(int trans_a, int trans_b, int m, int n, int k, int batch_inner,
                         GLOBAL const real* a, long a_offset, int lda, long a_outer, long a_inner,
                         GLOBAL const real* b, long b_offset, int ldb, long b_outer, long b_inner,
                         real beta,
                         GLOBAL real* c, long c_offset, int ldc, long c_outer, long c_inner) {
            LOCAL real tile_a[TILE][TILE + 1];
            LOCAL real tile_b[TILE][TILE + 1];
            int lid = LOCAL_ID;
            int ty = lid / TILE, tx = lid % TILE;
            int tiles_m = (m + TILE - 1) / TILE, tiles_n = (n + TILE - 1) / TILE;
            long per_matrix = (long)tiles_m * tiles_n;
            long group = GROUP_ID;
            long batch = group / per_matrix;
            long tile = group % per_matrix;
            long outer = batch / batch_inner, inner = batch % batch_inner;
            int row0 = (int)(tile / tiles_n) * TILE, col0 = (int)(tile % tiles_n) * TILE;
            GLOBAL const real* pa = a + a_offset + outer * a_outer + inner * a_inner;
            GLOBAL const real* pb = b + b_offset + outer * b_outer + inner * b_inner;
            GLOBAL real* pc = c + c_offset + outer * c_outer + inner * c_inner;

            real acc = (real)0;
            for (int p0 = 0; p0 < k; p0 += TILE) {
                /* Out-of-range cells load 0, which adds nothing; every work-item reaches both barriers. */
                int ar = row0 + ty, ap = p0 + tx;
                tile_a[ty][tx] = (ar < m && ap < k) ? (trans_a ? pa[(long)ap * lda + ar] : pa[(long)ar * lda + ap]) : (real)0;
                int bp = p0 + ty, bc = col0 + tx;
                tile_b[ty][tx] = (bp < k && bc < n) ? (trans_b ? pb[(long)bc * ldb + bp] : pb[(long)bp * ldb + bc]) : (real)0;
                SYNC_THREADS
                for (int q = 0; q < TILE; q++) acc += tile_a[ty][q] * tile_b[q][tx];
                SYNC_THREADS
            }
            int row = row0 + ty, col = col0 + tx;
            if (row < m && col < n) {
                long index = (long)row * ldc + col;
                /* beta = 0 does not read C, so stale NaNs in a fresh buffer do not leak in. */
                pc[index] = beta == (real)0 ? acc : acc + beta * pc[index];
            }
        }
        """;
}

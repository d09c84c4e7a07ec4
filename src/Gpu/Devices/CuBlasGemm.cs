using ILGPU;
using ILGPU.Runtime.Cuda;

namespace DeformEngine.Gpu;

/// <summary>
/// A batched row-major product on cuBLAS, which is column-major: row-major C = op(A)·op(B) is column-major
/// Cᵀ = op(B)ᵀ·op(A)ᵀ, so each entry calls gemm with the operands swapped and the same leading dimensions.
/// One call per batch entry (the wrapper has no strided-batched form); the batches here are images × groups.
/// </summary>
internal static class CuBlasGemm
{
    public static void Run<T>(CuBlas blas, GemmCall<T> call) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (m, n, k) = (call.M, call.N, call.K);
        var opA = call.A.Transposed ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose;
        var opB = call.B.Transposed ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose;
        for (int outer = 0; outer < call.BatchOuter; outer++)
            for (int inner = 0; inner < call.BatchInner; inner++)
            {
                var a = Operand(call.A, outer, inner, call.A.Transposed ? k : m, call.A.Transposed ? m : k);
                var b = Operand(call.B, outer, inner, call.B.Transposed ? n : k, call.B.Transposed ? k : n);
                var c = Operand(call.C, outer, inner, m, n);
                if (typeof(T) == typeof(float))
                    blas.Gemm(opB, opA, n, m, k, 1f, b.Cast<float>(), call.B.Ld, a.Cast<float>(), call.A.Ld,
                        float.CreateTruncating(call.Beta), c.Cast<float>(), call.C.Ld);
                else
                    blas.Gemm(opB, opA, n, m, k, 1.0, b.Cast<double>(), call.B.Ld, a.Cast<double>(), call.A.Ld,
                        double.CreateTruncating(call.Beta), c.Cast<double>(), call.C.Ld);
            }
    }

    /// <summary>The stored rows × cols matrix of batch entry (outer, inner): from its first element to its last.</summary>
    private static ArrayView<T> Operand<T>(MatrixView<T> matrix, int outer, int inner, int rows, int cols) where T : unmanaged
    {
        long start = matrix.Offset + outer * matrix.StrideOuter + inner * matrix.StrideInner;
        long extent = rows == 0 || cols == 0 ? 1 : (long)(rows - 1) * matrix.Ld + cols;
        return matrix.Data.SubView(start, extent);
    }
}

using System.Numerics;

namespace DeformEngine.Cpu;

/// <summary>General matrix multiply on row-major spans: C = alpha·op(A)·op(B) + beta·C,
/// where op(A) is m×k and op(B) is k×n.</summary>
public static class Gemm
{
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                T acc = T.Zero;
                for (int p = 0; p < k; p++)
                {
                    T av = transA ? a[p * lda + i] : a[i * lda + p];
                    T bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    acc += av * bv;
                }
                ref T cv = ref c[i * ldc + j];
                cv = beta == T.Zero ? alpha * acc : alpha * acc + beta * cv;
            }
        }
    }
}

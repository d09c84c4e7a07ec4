using System.Numerics;

namespace DeformEngine.Cpu;

public static partial class Gemm
{
    /// <summary>The plain triple loop that defines <see cref="Multiply{T}"/>: same arguments,
    /// same checks. Tests use it as the oracle; <see cref="EngineOptions.UseReferenceKernels"/>
    /// routes <see cref="Multiply{T}"/> here.</summary>
    public static void MultiplyReference<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmArguments.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
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
                // beta = 0 must not read C: it may hold NaN garbage.
                cv = beta == T.Zero ? alpha * acc : alpha * acc + beta * cv;
            }
        }
    }
}

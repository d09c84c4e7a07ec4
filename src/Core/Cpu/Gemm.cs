using System.Numerics;

namespace DeformEngine.Cpu;

/// <summary>General matrix multiply on row-major spans: C = alpha·op(A)·op(B) + beta·C,
/// where op(A) is m×k and op(B) is k×n.</summary>
/// <remarks>A is stored m×k with row stride <c>lda</c>, or k×m when <c>transA</c>; B is stored
/// k×n with row stride <c>ldb</c>, or n×k when <c>transB</c>; C is m×n with row stride
/// <c>ldc</c>. With beta = 0, C is overwritten without being read, so it may hold garbage.
/// The result does not depend on <see cref="EngineOptions.Threads"/>: every element of C is
/// reduced over k in the same order whatever the partition.</remarks>
public static partial class Gemm
{
    /// <summary>C = alpha·op(A)·op(B) + beta·C on row-major spans (see the remarks of <see cref="Gemm"/> for
    /// layouts).</summary>
    /// <exception cref="ArgumentException">A size or leading dimension is negative or too small, or a span is too short
    /// for it.</exception>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Only float and double have vector kernels; other IEEE types (Half, NFloat) take the loop.
        if (EngineOptions.UseReferenceKernels || (typeof(T) != typeof(float) && typeof(T) != typeof(double)))
        {
            MultiplyReference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        GemmArguments.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0)
            return;
        if (k == 0)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        var problem = new GemmProblem(transA, transB, m, n, k, lda, ldb, ldc);
        GemmDriver.Run(problem, alpha, a, b, beta, c);
    }

    /// <summary>op(A) packed once for many products with <see cref="MultiplyPacked{T}"/> (float and double).</summary>
    /// <remarks>With <paramref name="columnOrder"/> (A not transposed), op(A)[i, p] = A[i, columnOrder[p]]:
    /// a re-ordering of A's columns applied while packing. With <paramref name="reuse"/> (an earlier result of the same
    /// size that nothing reads any more) the packing goes into its storage.</remarks>
    internal static GemmPackedA<T> PackA<T>(bool transA, int m, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<int> columnOrder = default,
        GemmPackedA<T>? reuse = null)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        GemmPackedA<T>.Pack(transA, m, k, a, lda, columnOrder, reuse);

    /// <summary>C = alpha·A·op(B) + beta·C for a packed A (m×k); bitwise the same as
    /// <see cref="Multiply{T}"/> on the A it was packed from. <paramref name="threads"/> caps the threads
    /// (0: <see cref="EngineOptions.Threads"/>); a caller that is itself one task of a parallel loop passes 1.</summary>
    internal static void MultiplyPacked<T>(GemmPackedA<T> a, bool transB, int n, T alpha, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc,
        int threads = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        int m = a.M, k = a.K;
        // A's own checks ran when it was packed; lda = max(1, k) stands for it here.
        GemmArguments.Validate(false, transB, m, n, k, (long)m * k > int.MaxValue ? int.MaxValue : m * k, Math.Max(1, k), b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0)
            return;
        if (k == 0)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        GemmDriver.Run(new GemmProblem(false, transB, m, n, k, Math.Max(1, k), ldb, ldc), a, alpha, b, beta, c, threads);
    }

    /// <summary>Columns of one panel of the micro-kernel this machine runs for <typeparamref name="T"/>.</summary>
    internal static int PanelColumns<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
        GemmDriver.UsesWideKernel ? GemmKernel512<T>.Columns : GemmKernel256<T>.Columns;

    /// <summary>Gives the calling thread its largest packing buffer for <typeparamref name="T"/> now and touches
    /// every page of it, so that a later product on this thread neither allocates it nor faults its pages in
    /// (for a first call that should run at steady speed, see CpuFastBackend.Prepare).</summary>
    internal static unsafe void WarmThreadBuffers<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            return;
        var blocking = GemmDriver.UsesWideKernel ? GemmBlocking.For<T, GemmKernel512<T>>() : GemmBlocking.For<T, GemmKernel256<T>>();
        // The widest slice, and the partial panel a task may pack after it (GemmPartition.SharesNarrowTail).
        int length = (blocking.SliceColumns + PanelColumns<T>()) * blocking.Kc;
        new Span<T>(GemmBuffers<T>.Slice(length), length).Clear();
    }

    /// <summary>C = beta·C, the whole product when k = 0; beta = 0 writes zeros so that
    /// garbage (NaN) in C does not survive, as BLAS does.</summary>
    private static void ScaleC<T>(int m, int n, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            Span<T> row = c.Slice(i * ldc, n);
            if (beta == T.Zero)
                row.Clear();
            else
                for (int j = 0; j < row.Length; j++)
                    row[j] *= beta;
        }
    }
}

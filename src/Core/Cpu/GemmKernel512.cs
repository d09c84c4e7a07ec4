using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DeformEngine.Cpu;

/// <summary>8 × 3·Vector512 micro-kernel (8×48 float, 8×24 double) for AVX-512: 24 accumulators,
/// three B vectors and one broadcast take 28 of the 32 zmm registers, no spill. Per k step it loads
/// 3 vectors and 8 scalars for 24 FMAs, well within two loads per cycle. Its shape fits the
/// operator's products exactly: 8 divides the output channels and the rows (N·H·W) of common
/// layers, and 48 divides the depth 9·C whenever C is a multiple of 16.</summary>
internal readonly unsafe struct GemmKernel512<T> : IGemmKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Rows => 8;

    public static int Columns => 3 * Vector512<T>.Count;

    public static int VectorLanes => Vector512<T>.Count;

    /// <inheritdoc />
    public static int ColumnTailWidth => ColumnLanes512<T>.MaxColumns;

    /// <inheritdoc />
    public static void MultiplyColumnTail(int columns, int rows, int kc, T* packedA, T* packedB, int bStep, T* c, int ldc,
        T alpha, T beta, bool overwrite) =>
        GemmColumnTail.Multiply<T, ColumnLanes512<T>>(columns, rows, kc, packedA, (long)Rows * kc, packedB, bStep, c, ldc, alpha, beta,
            overwrite);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<TPanel>(int kc, T* packedA, TPanel b, T* c, int ldc, T alpha, T beta, bool overwrite,
        ref GemmPrefetch next, int perEightSteps)
        where TPanel : struct, IGemmPanelB<T>
    {
        int width = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c02 = default;
        Vector512<T> c10 = default, c11 = default, c12 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default;
        Vector512<T> c30 = default, c31 = default, c32 = default;
        Vector512<T> c40 = default, c41 = default, c42 = default;
        Vector512<T> c50 = default, c51 = default, c52 = default;
        Vector512<T> c60 = default, c61 = default, c62 = default;
        Vector512<T> c70 = default, c71 = default, c72 = default;
        GemmSimd.PrefetchTile(c, ldc, Rows, Columns);
        T* a = packedA;
        // Eight k steps per trip, each addressing A and B at constant offsets from the trip's pointers: the loop's
        // counter, compare, pointer updates and prefetch check are amortised over 192 FMAs (as in GemmKernel256; with
        // one step per trip, 1024³ on one thread read 1.02–1.05 of OpenBLAS, with eight 1.09–1.19, in three alternations
        // on the VM of docs/benchmarks.md). Each accumulator still sums over p in order, so results do not change.
        int p = 0;
        for (; p + 7 < kc; p += 8)
        {
            Step(a, ref b, 0, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32,
                ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            Step(a, ref b, 1, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32,
                ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            Step(a, ref b, 2, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32,
                ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            Step(a, ref b, 3, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32,
                ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            Step(a, ref b, 4, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32,
                ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            Step(a, ref b, 5, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32,
                ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            Step(a, ref b, 6, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32,
                ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            Step(a, ref b, 7, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32,
                ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            a += 8 * Rows;
            b.Next(8, Columns);
            next.Issue(perEightSteps);
        }
        for (; p < kc; p++)
        {
            Step(a, ref b, 0, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22, ref c30, ref c31, ref c32,
                ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            a += Rows;
            b.Next(1, Columns);
        }
        Vector512<T> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
        UpdateRow(c, c00, c01, c02, width, va, vb, overwrite);
        UpdateRow(c + ldc, c10, c11, c12, width, va, vb, overwrite);
        UpdateRow(c + 2 * ldc, c20, c21, c22, width, va, vb, overwrite);
        UpdateRow(c + 3 * ldc, c30, c31, c32, width, va, vb, overwrite);
        UpdateRow(c + 4 * ldc, c40, c41, c42, width, va, vb, overwrite);
        UpdateRow(c + 5 * ldc, c50, c51, c52, width, va, vb, overwrite);
        UpdateRow(c + 6 * ldc, c60, c61, c62, width, va, vb, overwrite);
        UpdateRow(c + 7 * ldc, c70, c71, c72, width, va, vb, overwrite);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyFourRows(int kc, T* packedA, T* packedB, T* c, int ldc, T alpha, T beta, bool overwrite)
    {
        int width = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        GemmSimd.PrefetchTile(c, ldc, 4, Columns);
        T* a = packedA;
        T* b = packedB;
        for (int p = 0; p < kc; p++, a += Rows, b += 3 * width)
        {
            Vector512<T> b0 = Vector512.Load(b);
            Vector512<T> b1 = Vector512.Load(b + width);
            Vector512<T> b2 = Vector512.Load(b + 2 * width);
            Row(a[0], b0, b1, b2, ref c00, ref c01, ref c02);
            Row(a[1], b0, b1, b2, ref c10, ref c11, ref c12);
            Row(a[2], b0, b1, b2, ref c20, ref c21, ref c22);
            Row(a[3], b0, b1, b2, ref c30, ref c31, ref c32);
        }
        Vector512<T> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
        UpdateRow(c, c00, c01, c02, width, va, vb, overwrite);
        UpdateRow(c + ldc, c10, c11, c12, width, va, vb, overwrite);
        UpdateRow(c + 2 * ldc, c20, c21, c22, width, va, vb, overwrite);
        UpdateRow(c + 3 * ldc, c30, c31, c32, width, va, vb, overwrite);
    }

    /// <summary>The k step <paramref name="step"/> steps after the trip's pointers: three B vectors, eight broadcasts
    /// of A, 24 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TPanel>(T* a, ref TPanel b, int step,
        ref Vector512<T> c00, ref Vector512<T> c01, ref Vector512<T> c02, ref Vector512<T> c10, ref Vector512<T> c11, ref Vector512<T> c12,
        ref Vector512<T> c20, ref Vector512<T> c21, ref Vector512<T> c22, ref Vector512<T> c30, ref Vector512<T> c31, ref Vector512<T> c32,
        ref Vector512<T> c40, ref Vector512<T> c41, ref Vector512<T> c42, ref Vector512<T> c50, ref Vector512<T> c51, ref Vector512<T> c52,
        ref Vector512<T> c60, ref Vector512<T> c61, ref Vector512<T> c62, ref Vector512<T> c70, ref Vector512<T> c71, ref Vector512<T> c72)
        where TPanel : struct, IGemmPanelB<T>
    {
        int width = Vector512<T>.Count;
        b.FetchAhead(step, Columns);
        // Loaded from At(step) each time, not through a local, so that the JIT addresses them at constant offsets.
        Vector512<T> b0 = Vector512.Load(b.At(step, Columns));
        Vector512<T> b1 = Vector512.Load(b.At(step, Columns) + width);
        Vector512<T> b2 = Vector512.Load(b.At(step, Columns) + 2 * width);
        b.Keep(step, Columns, 0, b0);
        b.Keep(step, Columns, width, b1);
        b.Keep(step, Columns, 2 * width, b2);
        int o = step * Rows;
        Row(a[o], b0, b1, b2, ref c00, ref c01, ref c02);
        Row(a[o + 1], b0, b1, b2, ref c10, ref c11, ref c12);
        Row(a[o + 2], b0, b1, b2, ref c20, ref c21, ref c22);
        Row(a[o + 3], b0, b1, b2, ref c30, ref c31, ref c32);
        Row(a[o + 4], b0, b1, b2, ref c40, ref c41, ref c42);
        Row(a[o + 5], b0, b1, b2, ref c50, ref c51, ref c52);
        Row(a[o + 6], b0, b1, b2, ref c60, ref c61, ref c62);
        Row(a[o + 7], b0, b1, b2, ref c70, ref c71, ref c72);
    }

    /// <summary>One row of a k step: A's value broadcast against the three B vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(T a, Vector512<T> b0, Vector512<T> b1, Vector512<T> b2,
        ref Vector512<T> c0, ref Vector512<T> c1, ref Vector512<T> c2)
    {
        Vector512<T> x = Vector512.Create(a);
        c0 = GemmSimd.Fma(x, b0, c0);
        c1 = GemmSimd.Fma(x, b1, c1);
        c2 = GemmSimd.Fma(x, b2, c2);
    }

    /// <summary>The last, narrower panel of a row of C: 8 × 1 or 2 vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyNarrow(int vectors, int kc, T* packedA, T* packedB, T* c, int ldc, T alpha, T beta, bool overwrite)
    {
        if (vectors == 1)
            MultiplyOne(kc, packedA, packedB, c, ldc, alpha, beta, overwrite);
        else
            MultiplyTwo(kc, packedA, packedB, c, ldc, alpha, beta, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyOne(int kc, T* a, T* b, T* c, int ldc, T alpha, T beta, bool overwrite)
    {
        int width = Vector512<T>.Count;
        Vector512<T> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        GemmSimd.PrefetchTile(c, ldc, Rows, width);
        for (int p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b);
            c0 = GemmSimd.Fma(Vector512.Create(a[0]), b0, c0);
            c1 = GemmSimd.Fma(Vector512.Create(a[1]), b0, c1);
            c2 = GemmSimd.Fma(Vector512.Create(a[2]), b0, c2);
            c3 = GemmSimd.Fma(Vector512.Create(a[3]), b0, c3);
            c4 = GemmSimd.Fma(Vector512.Create(a[4]), b0, c4);
            c5 = GemmSimd.Fma(Vector512.Create(a[5]), b0, c5);
            c6 = GemmSimd.Fma(Vector512.Create(a[6]), b0, c6);
            c7 = GemmSimd.Fma(Vector512.Create(a[7]), b0, c7);
            a += 8;
            b += width;
        }
        Vector512<T> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
        GemmSimd.Update(c, c0, va, vb, overwrite);
        GemmSimd.Update(c + ldc, c1, va, vb, overwrite);
        GemmSimd.Update(c + 2 * ldc, c2, va, vb, overwrite);
        GemmSimd.Update(c + 3 * ldc, c3, va, vb, overwrite);
        GemmSimd.Update(c + 4 * ldc, c4, va, vb, overwrite);
        GemmSimd.Update(c + 5 * ldc, c5, va, vb, overwrite);
        GemmSimd.Update(c + 6 * ldc, c6, va, vb, overwrite);
        GemmSimd.Update(c + 7 * ldc, c7, va, vb, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyTwo(int kc, T* a, T* b, T* c, int ldc, T alpha, T beta, bool overwrite)
    {
        int width = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        GemmSimd.PrefetchTile(c, ldc, Rows, 2 * width);
        for (int p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b);
            Vector512<T> b1 = Vector512.Load(b + width);
            Vector512<T> x = Vector512.Create(a[0]);
            c00 = GemmSimd.Fma(x, b0, c00);
            c01 = GemmSimd.Fma(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = GemmSimd.Fma(x, b0, c10);
            c11 = GemmSimd.Fma(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = GemmSimd.Fma(x, b0, c20);
            c21 = GemmSimd.Fma(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = GemmSimd.Fma(x, b0, c30);
            c31 = GemmSimd.Fma(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = GemmSimd.Fma(x, b0, c40);
            c41 = GemmSimd.Fma(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = GemmSimd.Fma(x, b0, c50);
            c51 = GemmSimd.Fma(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = GemmSimd.Fma(x, b0, c60);
            c61 = GemmSimd.Fma(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = GemmSimd.Fma(x, b0, c70);
            c71 = GemmSimd.Fma(x, b1, c71);
            a += 8;
            b += 2 * width;
        }
        Vector512<T> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
        UpdateRow(c, c00, c01, width, va, vb, overwrite);
        UpdateRow(c + ldc, c10, c11, width, va, vb, overwrite);
        UpdateRow(c + 2 * ldc, c20, c21, width, va, vb, overwrite);
        UpdateRow(c + 3 * ldc, c30, c31, width, va, vb, overwrite);
        UpdateRow(c + 4 * ldc, c40, c41, width, va, vb, overwrite);
        UpdateRow(c + 5 * ldc, c50, c51, width, va, vb, overwrite);
        UpdateRow(c + 6 * ldc, c60, c61, width, va, vb, overwrite);
        UpdateRow(c + 7 * ldc, c70, c71, width, va, vb, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateRow(T* row, Vector512<T> x0, Vector512<T> x1, int width,
        Vector512<T> alpha, Vector512<T> beta, bool overwrite)
    {
        GemmSimd.Update(row, x0, alpha, beta, overwrite);
        GemmSimd.Update(row + width, x1, alpha, beta, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateRow(T* row, Vector512<T> x0, Vector512<T> x1, Vector512<T> x2, int width,
        Vector512<T> alpha, Vector512<T> beta, bool overwrite)
    {
        GemmSimd.Update(row, x0, alpha, beta, overwrite);
        GemmSimd.Update(row + width, x1, alpha, beta, overwrite);
        GemmSimd.Update(row + 2 * width, x2, alpha, beta, overwrite);
    }
}

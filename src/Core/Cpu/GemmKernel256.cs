using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DeformEngine.Cpu;

/// <summary>6 × 2·Vector256 micro-kernel (6×16 float, 6×8 double) for AVX2+FMA: 12 accumulators, two B
/// vectors and one broadcast fill 15 of the 16 ymm registers without spilling.</summary>
internal readonly unsafe struct GemmKernel256<T> : IGemmKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Rows => 6;

    public static int Columns => 2 * Vector256<T>.Count;

    public static int VectorLanes => Vector256<T>.Count;

    /// <inheritdoc />
    public static int ColumnTailWidth => typeof(T) == typeof(float) ? ColumnLanes256.MaxColumns : 0;

    /// <inheritdoc />
    public static void MultiplyColumnTail(int columns, int rows, int kc, T* packedA, T* packedB, int bStep, T* c, int ldc,
        T alpha, T beta, bool overwrite)
    {
        if (typeof(T) != typeof(float))
            throw new NotSupportedException("The AVX2 kernel computes only float partial panels by columns.");
        GemmColumnTail.Multiply<float, ColumnLanes256>(columns, rows, kc, (float*)packedA, (long)Rows * kc, (float*)packedB, bStep,
            (float*)c, ldc, Unsafe.As<T, float>(ref alpha), Unsafe.As<T, float>(ref beta), overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<TPanel>(int kc, T* packedA, TPanel b, T* c, int ldc, T alpha, T beta, bool overwrite,
        ref GemmPrefetch next, int perEightSteps)
        where TPanel : struct, IGemmPanelB<T>
    {
        int width = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default;
        Vector256<T> c10 = default, c11 = default;
        Vector256<T> c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default;
        Vector256<T> c40 = default, c41 = default;
        Vector256<T> c50 = default, c51 = default;
        GemmSimd.PrefetchTile(c, ldc, Rows, Columns);
        T* a = packedA;
        // Eight k steps per trip, each addressing A and B at constant offsets from the trip's pointers (Step): the loop's
        // counter, compare, pointer updates and prefetch check are amortised over 96 FMAs, 42 instructions per 24 FMAs
        // against 51 with two steps per trip and a pointer computed per step. The FMAs run at the same rate alone on a
        // core; where the core's front end is shared (the VM of docs/benchmarks.md in its slow spells), 1024³ on one thread
        // went from 0.86–0.96 of OpenBLAS to 1.04–1.10, and on two from 0.91 to 0.93–1.05 on the pairs' medians, in three
        // alternations. Each accumulator still sums over p in order, so results do not change.
        int p = 0;
        for (; p + 7 < kc; p += 8)
        {
            Step(a, ref b, 0, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a, ref b, 1, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a, ref b, 2, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a, ref b, 3, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a, ref b, 4, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a, ref b, 5, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a, ref b, 6, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a, ref b, 7, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += 48;
            b.Next(8, Columns);
            next.Issue(perEightSteps);
        }
        for (; p < kc; p++)
        {
            Step(a, ref b, 0, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += 6;
            b.Next(1, Columns);
        }
        Vector256<T> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
        GemmSimd.Update(c + 0 * ldc, c00, va, vb, overwrite);
        GemmSimd.Update(c + 0 * ldc + width, c01, va, vb, overwrite);
        GemmSimd.Update(c + 1 * ldc, c10, va, vb, overwrite);
        GemmSimd.Update(c + 1 * ldc + width, c11, va, vb, overwrite);
        GemmSimd.Update(c + 2 * ldc, c20, va, vb, overwrite);
        GemmSimd.Update(c + 2 * ldc + width, c21, va, vb, overwrite);
        GemmSimd.Update(c + 3 * ldc, c30, va, vb, overwrite);
        GemmSimd.Update(c + 3 * ldc + width, c31, va, vb, overwrite);
        GemmSimd.Update(c + 4 * ldc, c40, va, vb, overwrite);
        GemmSimd.Update(c + 4 * ldc + width, c41, va, vb, overwrite);
        GemmSimd.Update(c + 5 * ldc, c50, va, vb, overwrite);
        GemmSimd.Update(c + 5 * ldc + width, c51, va, vb, overwrite);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyFourRows(int kc, T* packedA, T* packedB, T* c, int ldc, T alpha, T beta, bool overwrite)
    {
        int width = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<T> c20 = default, c21 = default, c30 = default, c31 = default;
        GemmSimd.PrefetchTile(c, ldc, 4, Columns);
        T* a = packedA;
        T* b = packedB;
        for (int p = 0; p < kc; p++, a += Rows, b += 2 * width)
        {
            Vector256<T> b0 = Vector256.Load(b);
            Vector256<T> b1 = Vector256.Load(b + width);
            Row(a[0], b0, b1, ref c00, ref c01);
            Row(a[1], b0, b1, ref c10, ref c11);
            Row(a[2], b0, b1, ref c20, ref c21);
            Row(a[3], b0, b1, ref c30, ref c31);
        }
        Vector256<T> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
        GemmSimd.Update(c, c00, va, vb, overwrite);
        GemmSimd.Update(c + width, c01, va, vb, overwrite);
        GemmSimd.Update(c + ldc, c10, va, vb, overwrite);
        GemmSimd.Update(c + ldc + width, c11, va, vb, overwrite);
        GemmSimd.Update(c + 2 * ldc, c20, va, vb, overwrite);
        GemmSimd.Update(c + 2 * ldc + width, c21, va, vb, overwrite);
        GemmSimd.Update(c + 3 * ldc, c30, va, vb, overwrite);
        GemmSimd.Update(c + 3 * ldc + width, c31, va, vb, overwrite);
    }

    /// <summary>The last, narrower panel of a row of C: 6 × 1 vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyNarrow(int vectors, int kc, T* packedA, T* packedB, T* c, int ldc, T alpha, T beta, bool overwrite)
    {
        int width = Vector256<T>.Count;
        Vector256<T> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        GemmSimd.PrefetchTile(c, ldc, Rows, width);
        T* a = packedA;
        T* b = packedB;
        for (int p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(b);
            c0 = GemmSimd.Fma(Vector256.Create(a[0]), b0, c0);
            c1 = GemmSimd.Fma(Vector256.Create(a[1]), b0, c1);
            c2 = GemmSimd.Fma(Vector256.Create(a[2]), b0, c2);
            c3 = GemmSimd.Fma(Vector256.Create(a[3]), b0, c3);
            c4 = GemmSimd.Fma(Vector256.Create(a[4]), b0, c4);
            c5 = GemmSimd.Fma(Vector256.Create(a[5]), b0, c5);
            a += 6;
            b += width;
        }
        Vector256<T> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
        GemmSimd.Update(c, c0, va, vb, overwrite);
        GemmSimd.Update(c + ldc, c1, va, vb, overwrite);
        GemmSimd.Update(c + 2 * ldc, c2, va, vb, overwrite);
        GemmSimd.Update(c + 3 * ldc, c3, va, vb, overwrite);
        GemmSimd.Update(c + 4 * ldc, c4, va, vb, overwrite);
        GemmSimd.Update(c + 5 * ldc, c5, va, vb, overwrite);
    }

    /// <summary>The k step <paramref name="step"/> steps after the trip's pointers: two B vectors, six broadcasts of A,
    /// twelve FMAs. B is loaded from At(step) each time rather than through a local, and A indexed from the trip's
    /// pointer, so that the JIT addresses both at constant offsets instead of computing a pointer per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TPanel>(T* a, ref TPanel b, int step,
        ref Vector256<T> c00, ref Vector256<T> c01, ref Vector256<T> c10, ref Vector256<T> c11,
        ref Vector256<T> c20, ref Vector256<T> c21, ref Vector256<T> c30, ref Vector256<T> c31,
        ref Vector256<T> c40, ref Vector256<T> c41, ref Vector256<T> c50, ref Vector256<T> c51)
        where TPanel : struct, IGemmPanelB<T>
    {
        int width = Vector256<T>.Count;
        b.FetchAhead(step, Columns);
        Vector256<T> b0 = Vector256.Load(b.At(step, Columns));
        Vector256<T> b1 = Vector256.Load(b.At(step, Columns) + width);
        b.Keep(step, Columns, 0, b0);
        b.Keep(step, Columns, width, b1);
        int o = step * Rows;
        Row(a[o], b0, b1, ref c00, ref c01);
        Row(a[o + 1], b0, b1, ref c10, ref c11);
        Row(a[o + 2], b0, b1, ref c20, ref c21);
        Row(a[o + 3], b0, b1, ref c30, ref c31);
        Row(a[o + 4], b0, b1, ref c40, ref c41);
        Row(a[o + 5], b0, b1, ref c50, ref c51);
    }

    /// <summary>One row of a k step: A's value broadcast against the two B vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(T a, Vector256<T> b0, Vector256<T> b1, ref Vector256<T> c0, ref Vector256<T> c1)
    {
        Vector256<T> x = Vector256.Create(a);
        c0 = GemmSimd.Fma(x, b0, c0);
        c1 = GemmSimd.Fma(x, b1, c1);
    }
}

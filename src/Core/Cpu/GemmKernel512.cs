using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DeformEngine.Cpu;

/// <summary>8 × 2·Vector512 micro-kernel (8×32 float, 8×16 double) for AVX-512: 16 accumulators hide the
/// FMA latency of both ports and leave half of the 32 zmm registers free, so no spill.</summary>
internal readonly unsafe struct GemmKernel512<T> : IGemmKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Rows => 8;

    public static int Columns => 2 * Vector512<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(int kc, T* packedA, T* packedB, T* c, int ldc, T alpha, T beta, bool overwrite)
    {
        int width = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default;
        Vector512<T> c10 = default, c11 = default;
        Vector512<T> c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default;
        Vector512<T> c50 = default, c51 = default;
        Vector512<T> c60 = default, c61 = default;
        Vector512<T> c70 = default, c71 = default;
        GemmSimd.PrefetchTile(c, ldc, Rows, Columns);
        T* a = packedA;
        T* b = packedB;
        for (int p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b);
            Vector512<T> b1 = Vector512.Load(b + width);
            Vector512<T> a0 = Vector512.Create(a[0]);
            c00 = GemmSimd.Fma(a0, b0, c00);
            c01 = GemmSimd.Fma(a0, b1, c01);
            Vector512<T> a1 = Vector512.Create(a[1]);
            c10 = GemmSimd.Fma(a1, b0, c10);
            c11 = GemmSimd.Fma(a1, b1, c11);
            Vector512<T> a2 = Vector512.Create(a[2]);
            c20 = GemmSimd.Fma(a2, b0, c20);
            c21 = GemmSimd.Fma(a2, b1, c21);
            Vector512<T> a3 = Vector512.Create(a[3]);
            c30 = GemmSimd.Fma(a3, b0, c30);
            c31 = GemmSimd.Fma(a3, b1, c31);
            Vector512<T> a4 = Vector512.Create(a[4]);
            c40 = GemmSimd.Fma(a4, b0, c40);
            c41 = GemmSimd.Fma(a4, b1, c41);
            Vector512<T> a5 = Vector512.Create(a[5]);
            c50 = GemmSimd.Fma(a5, b0, c50);
            c51 = GemmSimd.Fma(a5, b1, c51);
            Vector512<T> a6 = Vector512.Create(a[6]);
            c60 = GemmSimd.Fma(a6, b0, c60);
            c61 = GemmSimd.Fma(a6, b1, c61);
            Vector512<T> a7 = Vector512.Create(a[7]);
            c70 = GemmSimd.Fma(a7, b0, c70);
            c71 = GemmSimd.Fma(a7, b1, c71);
            a += 8;
            b += 2 * width;
        }
        Vector512<T> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
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
        GemmSimd.Update(c + 6 * ldc, c60, va, vb, overwrite);
        GemmSimd.Update(c + 6 * ldc + width, c61, va, vb, overwrite);
        GemmSimd.Update(c + 7 * ldc, c70, va, vb, overwrite);
        GemmSimd.Update(c + 7 * ldc + width, c71, va, vb, overwrite);
    }
}

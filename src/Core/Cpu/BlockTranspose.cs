using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeformEngine.Cpu;

/// <summary>b[j, i] = a[i, j] for strided row-major blocks: the NCHW ↔ channels-last copies of the
/// fast deformable kernels, and the 8×8 step of GEMM's transposed packing. Floats go through 8×8 AVX register transposes (measured 4× faster than
/// the element loop on the benchmark shapes); the edges and doubles take the element loop.</summary>
internal static unsafe class BlockTranspose
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose<T>(T* a, long aStride, T* b, long bStride, int rows, int cols) where T : unmanaged
    {
        int fullRows = 0, fullCols = 0;
        if (typeof(T) == typeof(float) && Avx.IsSupported)
        {
            fullRows = rows & ~7;
            fullCols = cols & ~7;
            for (int i = 0; i < fullRows; i += 8)
                for (int j = 0; j < fullCols; j += 8)
                    Transpose8x8((float*)a + i * aStride + j, aStride, (float*)b + j * bStride + i, bStride);
        }
        for (int i = 0; i < rows; i++)
        {
            // Columns the 8×8 blocks did not cover: all of them in rows past the last full block.
            for (int j = i < fullRows ? fullCols : 0; j < cols; j++)
                b[j * bStride + i] = a[i * aStride + j];
        }
    }

    /// <summary>b[j·bStride + i] = a[i·aStride + j] for an 8×8 float block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8(float* a, long aStride, float* b, long bStride)
    {
        var c = Transpose(Avx.LoadVector256(a), Avx.LoadVector256(a + aStride), Avx.LoadVector256(a + 2 * aStride),
            Avx.LoadVector256(a + 3 * aStride), Avx.LoadVector256(a + 4 * aStride), Avx.LoadVector256(a + 5 * aStride),
            Avx.LoadVector256(a + 6 * aStride), Avx.LoadVector256(a + 7 * aStride));
        Avx.Store(b, c.C0);
        Avx.Store(b + bStride, c.C1);
        Avx.Store(b + 2 * bStride, c.C2);
        Avx.Store(b + 3 * bStride, c.C3);
        Avx.Store(b + 4 * bStride, c.C4);
        Avx.Store(b + 5 * bStride, c.C5);
        Avx.Store(b + 6 * bStride, c.C6);
        Avx.Store(b + 7 * bStride, c.C7);
    }

    /// <summary>b[j·6 + i] = a[i·aStride + j] for 6 rows and 8 columns of floats, the layout of a 6-row packed
    /// panel (the AVX2 kernel's). Each of the eight 8-float stores also writes two values past its 6 (zeros),
    /// which the next store overwrites; the last one's land on b[48] and b[49], which the caller must own and
    /// write afterwards.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose6x8Overlapping(float* a, long aStride, float* b)
    {
        var zero = Vector256<float>.Zero;
        var c = Transpose(Avx.LoadVector256(a), Avx.LoadVector256(a + aStride), Avx.LoadVector256(a + 2 * aStride),
            Avx.LoadVector256(a + 3 * aStride), Avx.LoadVector256(a + 4 * aStride), Avx.LoadVector256(a + 5 * aStride), zero, zero);
        // In order: each store's last two lanes are overwritten by the next.
        Avx.Store(b, c.C0);
        Avx.Store(b + 6, c.C1);
        Avx.Store(b + 12, c.C2);
        Avx.Store(b + 18, c.C3);
        Avx.Store(b + 24, c.C4);
        Avx.Store(b + 30, c.C5);
        Avx.Store(b + 36, c.C6);
        Avx.Store(b + 42, c.C7);
    }

    /// <summary>The columns of the 8×8 float block whose rows are r0…r7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Columns8 Transpose(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        return new Columns8(
            Avx.Permute2x128(u0, u4, 0x20), Avx.Permute2x128(u1, u5, 0x20), Avx.Permute2x128(u2, u6, 0x20), Avx.Permute2x128(u3, u7, 0x20),
            Avx.Permute2x128(u0, u4, 0x31), Avx.Permute2x128(u1, u5, 0x31), Avx.Permute2x128(u2, u6, 0x31), Avx.Permute2x128(u3, u7, 0x31));
    }

    private readonly record struct Columns8(Vector256<float> C0, Vector256<float> C1, Vector256<float> C2, Vector256<float> C3,
        Vector256<float> C4, Vector256<float> C5, Vector256<float> C6, Vector256<float> C7);

    /// <summary>b[j·bStride + i] = a[i·aStride + j] for a 4×4 double block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose4x4(double* a, long aStride, double* b, long bStride)
    {
        var r0 = Avx.LoadVector256(a);
        var r1 = Avx.LoadVector256(a + aStride);
        var r2 = Avx.LoadVector256(a + 2 * aStride);
        var r3 = Avx.LoadVector256(a + 3 * aStride);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        Avx.Store(b, Avx.Permute2x128(t0, t2, 0x20));
        Avx.Store(b + bStride, Avx.Permute2x128(t1, t3, 0x20));
        Avx.Store(b + 2 * bStride, Avx.Permute2x128(t0, t2, 0x31));
        Avx.Store(b + 3 * bStride, Avx.Permute2x128(t1, t3, 0x31));
    }
}

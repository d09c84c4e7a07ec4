using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeformEngine.Cpu;

/// <summary>Copies blocks of op(A) and op(B) into the micro-panel layout the kernels stream
/// through: each k step of a panel is one contiguous run, so the kernel's loads are sequential
/// whatever the transposes and strides of the caller. Panels are padded with zeros to a full
/// Rows (Columns), so the kernel never needs a tail; the padded lanes of C are discarded.</summary>
internal static unsafe class GemmPacking
{
    /// <summary>Packs rows [i0, i0 + rows) and depth [p0, p0 + kc) of op(A) into panels of
    /// <paramref name="mr"/> rows: panel r, step p holds op(A)[i0 + r·mr + ii, p0 + p] at
    /// r·mr·kc + p·mr + ii.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<T>(T* a, int lda, bool transA, int i0, int rows, int p0, int kc, int mr, T* packed)
        where T : unmanaged
    {
        for (int panel = 0; panel < rows; panel += mr)
        {
            int height = Math.Min(mr, rows - panel);
            T* dst = packed + (long)panel * kc;
            if (transA)
            {
                // Stored k×m: each k step of the panel is already contiguous.
                T* src = a + (long)p0 * lda + i0 + panel;
                for (int p = 0; p < kc; p++, src += lda, dst += mr)
                    CopyPadded(src, height, dst, mr);
            }
            else
            {
                // Stored m×k: read each row sequentially and scatter it with stride mr.
                for (int ii = 0; ii < mr; ii++)
                {
                    if (ii < height)
                        Scatter(a + (long)(i0 + panel + ii) * lda + p0, kc, dst + ii, mr);
                    else
                        Fill(dst + ii, kc, mr);
                }
            }
        }
    }

    /// <summary>Packs depth [p0, p0 + kc) and columns [j0, j0 + columns) of op(B) into panels of
    /// <paramref name="nr"/> columns: panel r, step p holds op(B)[p0 + p, j0 + r·nr + jj] at
    /// r·nr·kc + p·nr + jj.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<T>(T* b, int ldb, bool transB, int p0, int kc, int j0, int columns, int nr, T* packed)
        where T : unmanaged
    {
        for (int panel = 0; panel < columns; panel += nr)
        {
            int width = Math.Min(nr, columns - panel);
            T* dst = packed + (long)panel * kc;
            if (transB && typeof(T) == typeof(float) && Avx.IsSupported && width == nr && nr % 8 == 0)
            {
                // Stored n×k, full float panel: 8×8 register transposes of 8 columns × 8 steps,
                // then the last kc mod 8 steps element by element.
                T* src = b + (long)(j0 + panel) * ldb + p0;
                int fullSteps = kc & ~7;
                for (int p = 0; p < fullSteps; p += 8)
                    for (int jj = 0; jj < nr; jj += 8)
                        BlockTranspose.Transpose8x8((float*)(src + (long)jj * ldb + p), ldb, (float*)(dst + p * nr + jj), nr);
                for (int jj = 0; jj < nr; jj++)
                    Scatter(src + (long)jj * ldb + fullSteps, kc - fullSteps, dst + fullSteps * nr + jj, nr);
            }
            else if (transB)
            {
                // Stored n×k: read each column of op(B) sequentially and scatter it with stride nr.
                for (int jj = 0; jj < nr; jj++)
                {
                    if (jj < width)
                        Scatter(b + (long)(j0 + panel + jj) * ldb + p0, kc, dst + jj, nr);
                    else
                        Fill(dst + jj, kc, nr);
                }
            }
            else
            {
                T* src = b + (long)p0 * ldb + j0 + panel;
                for (int p = 0; p < kc; p++, src += ldb, dst += nr)
                {
                    if (width == nr)
                        CopyVectors(src, dst, nr);
                    else
                        CopyPadded(src, width, dst, nr);
                }
            }
        }
    }

    /// <summary>dst[p·stride] = src[p] for p below count: one row of a panel.</summary>
    private static void Scatter<T>(T* src, int count, T* dst, int stride) where T : unmanaged
    {
        for (T* end = src + count; src < end; src++, dst += stride)
            *dst = *src;
    }

    /// <summary>Zeroes the padding row or column of a panel, at the same stride.</summary>
    private static void Fill<T>(T* dst, int count, int stride) where T : unmanaged
    {
        for (int p = 0; p < count; p++, dst += stride)
            *dst = default;
    }

    /// <summary>Copies count values and zeroes the rest of a panel step of the given size; a
    /// plain loop, as these runs are too short for a memmove call to pay.</summary>
    private static void CopyPadded<T>(T* src, int count, T* dst, int size) where T : unmanaged
    {
        for (int i = 0; i < size; i++)
            dst[i] = i < count ? src[i] : default;
    }

    /// <summary>Copies a full panel row; nr is a whole number of Vector256, and an inline vector
    /// loop beats a memmove call for these 64- or 128-byte runs.</summary>
    private static void CopyVectors<T>(T* src, T* dst, int count) where T : unmanaged
    {
        for (int j = 0; j < count; j += Vector256<T>.Count)
            Vector256.Store(Vector256.Load(src + j), dst + j);
    }
}

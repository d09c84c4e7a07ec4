using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeformEngine.Cpu;

/// <summary>Copies blocks of op(A) and op(B) into the micro-panel layout the kernels stream
/// through: each k step of a panel is one contiguous run, so the kernel's loads are sequential
/// whatever the transposes and strides of the caller. Panels are padded with zeros to a full
/// Rows (A) or a whole number of vectors (B), so the kernel never needs a tail; the padded lanes of
/// C are discarded.</summary>
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
            else if (height == mr && TransposeBlock<T>() is int block && mr % block == 0)
            {
                // Stored m×k, full panel: register transposes of block rows × block steps, then the
                // last kc mod block steps element by element.
                T* src = a + (long)(i0 + panel) * lda + p0;
                int fullSteps = kc / block * block;
                for (int p = 0; p < fullSteps; p += block)
                    for (int ii = 0; ii < mr; ii += block)
                        Transpose(src + (long)ii * lda + p, lda, dst + p * mr + ii, mr);
                for (int ii = 0; ii < mr; ii++)
                    Scatter(src + (long)ii * lda + fullSteps, kc - fullSteps, dst + fullSteps * mr + ii, mr);
            }
            else if (height == mr && mr == 6 && typeof(T) == typeof(float) && Avx.IsSupported)
            {
                // Stored m×k, a full 6-row panel of floats (the AVX2 kernel): 6×8 register transposes whose
                // stores overlap by two values, each group's spill written by the group or the steps after it
                // (so the transposes stop while fewer than 8 steps would follow), then the rest element by element.
                T* src = a + (long)(i0 + panel) * lda + p0;
                int p = 0;
                for (; p + 8 < kc; p += 8)
                    BlockTranspose.Transpose6x8Overlapping((float*)(src + p), lda, (float*)(dst + p * mr));
                for (int ii = 0; ii < mr; ii++)
                    Scatter(src + (long)ii * lda + p, kc - p, dst + p * mr + ii, mr);
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

    /// <summary><see cref="PackA{T}"/> for op(A)[i, p] = A[i, <paramref name="columnOrder"/>[p]], A stored
    /// m×k (a re-ordering of A's columns applied while packing, so that it is never materialised).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackAReordered<T>(T* a, int lda, int* columnOrder, int i0, int rows, int p0, int kc, int mr, T* packed)
        where T : unmanaged
    {
        for (int panel = 0; panel < rows; panel += mr)
        {
            int height = Math.Min(mr, rows - panel);
            T* dst = packed + (long)panel * kc;
            T* first = a + (long)(i0 + panel) * lda;
            int* order = columnOrder + p0;
            if (height == mr)
            {
                for (int p = 0; p < kc; p++, dst += mr)
                {
                    T* source = first + order[p];
                    for (int ii = 0; ii < mr; ii++, source += lda)
                        dst[ii] = *source;
                }
                continue;
            }
            for (int p = 0; p < kc; p++, dst += mr)
            {
                int column = order[p];
                for (int ii = 0; ii < mr; ii++)
                    dst[ii] = ii < height ? first[(long)ii * lda + column] : default;
            }
        }
    }

    /// <summary>Packs depth [p0, p0 + kc) and columns [j0, j0 + columns) of op(B) into panels of
    /// <paramref name="nr"/> columns: panel r, step p holds op(B)[p0 + p, j0 + r·nr + jj] at
    /// r·nr·kc + p·w + jj, where w is nr except in a last, partial panel, which is only as wide as
    /// the whole vectors of <paramref name="lanes"/> it needs (<see cref="PanelWidth"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<T>(T* b, int ldb, bool transB, int p0, int kc, int j0, int columns, int nr, int lanes, T* packed)
        where T : unmanaged
    {
        if (!transB)
        {
            // Stored k×n: one row of the slice at a time, read sequentially and dealt out to the
            // panels. (Panel by panel instead, the reads would walk down kc rows a page apart,
            // missing the TLB and defeating the prefetchers: measured 2–3× slower.) A row a few KiB
            // ahead is fetched into L1 meanwhile, on top of GemmPrefetch's fetch of the block into L2:
            // where each B element meets few rows of A (the weight gradients' m = 64) packing is a large
            // part of the product, and this took the N8 C64 weight gradient from 79 to 88 GFLOP/s on
            // one AVX-512 core (docs/benchmarks.md).
            // The full panels' part of a row goes out with pointer steps only: with the AVX2 kernel's 16-column
            // panels a row of a 512-column slice is 32 two-vector copies, and recomputing each one's place cost
            // as much as the copy: packing ran at 4.1 GB/s with 16-column panels and 7.0 with 48, now 6.8–7.7 and
            // 10.7–11.1 (docs/benchmarks.md).
            int rowBytes = columns * sizeof(T);
            int ahead = Math.Clamp((PackAheadBytes + rowBytes - 1) / rowBytes, 2, 16);
            int fullColumns = columns / nr * nr, lastWidth = columns - fullColumns;
            int lastStride = lastWidth == 0 ? 0 : PanelWidth(lastWidth, nr, lanes);
            long panelStep = (long)nr * kc;
            T* lastPanel = packed + (long)fullColumns * kc;
            int w = Vector256<T>.Count;
            for (int p = 0; p < kc; p++)
            {
                T* src = b + (long)(p0 + p) * ldb + j0;
                if (Sse.IsSupported && p + ahead < kc)
                    PrefetchRun((byte*)(src + (long)ahead * ldb), rowBytes);
                T* dst = packed + (long)p * nr;
                if (nr == 2 * w && p + 1 < kc)
                {
                    // Two rows at a time: each panel then gets a whole 4-vector run, two full lines (packing
                    // alone 7.7 -> 9.1 GB/s; the AVX2 weight gradients +0.5-2 % in one process).
                    if (Sse.IsSupported && p + 1 + ahead < kc)
                        PrefetchRun((byte*)(src + (long)(ahead + 1) * ldb), rowBytes);
                    for (T* s = src, end = src + fullColumns; s < end; s += nr, dst += panelStep)
                    {
                        Vector256.Store(Vector256.Load(s), dst);
                        Vector256.Store(Vector256.Load(s + w), dst + w);
                        Vector256.Store(Vector256.Load(s + ldb), dst + 2 * w);
                        Vector256.Store(Vector256.Load(s + ldb + w), dst + 3 * w);
                    }
                    PackLastPanel(src, fullColumns, lastWidth, lastStride, lastPanel, p);
                    PackLastPanel(src + ldb, fullColumns, lastWidth, lastStride, lastPanel, p + 1);
                    p++;
                    continue;
                }
                for (T* s = src, end = src + fullColumns; s < end; s += nr, dst += panelStep)
                    CopyVectors(s, dst, nr);
                PackLastPanel(src, fullColumns, lastWidth, lastStride, lastPanel, p);
            }
            return;
        }
        for (int panel = 0; panel < columns; panel += nr)
        {
            int width = Math.Min(nr, columns - panel);
            int stride = PanelWidth(width, nr, lanes);
            T* dst = packed + (long)panel * kc;
            T* src = b + (long)(j0 + panel) * ldb + p0;
            if (width == nr && TransposeBlock<T>() is int block && nr % block == 0)
            {
                // Stored n×k, full panel: register transposes of block columns × block steps, a
                // block of columns at a time so that the reads are `block` sequential streams,
                // then the last kc mod block steps element by element.
                int fullSteps = kc / block * block;
                for (int jj = 0; jj < nr; jj += block)
                    for (int p = 0; p < fullSteps; p += block)
                        Transpose(src + (long)jj * ldb + p, ldb, dst + p * nr + jj, nr);
                for (int jj = 0; jj < nr; jj++)
                    Scatter(src + (long)jj * ldb + fullSteps, kc - fullSteps, dst + fullSteps * nr + jj, nr);
            }
            else
            {
                // Stored n×k: read each column of op(B) sequentially and scatter it with the panel's stride.
                for (int jj = 0; jj < stride; jj++)
                {
                    if (jj < width)
                        Scatter(src + (long)jj * ldb, kc, dst + jj, stride);
                    else
                        Fill(dst + jj, kc, stride);
                }
            }
        }
    }

    /// <summary>Step <paramref name="p"/> of a non-transposed B's last, partial panel (none when
    /// <paramref name="lastWidth"/> is 0): the row's columns from <paramref name="fullColumns"/> on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackLastPanel<T>(T* row, int fullColumns, int lastWidth, int lastStride, T* lastPanel, int p)
        where T : unmanaged
    {
        if (lastWidth == 0)
            return;
        T* last = lastPanel + (long)p * lastStride;
        if (lastWidth == lastStride)
            CopyVectors(row + fullColumns, last, lastStride);
        else
            CopyPadded(row + fullColumns, lastWidth, last, lastStride);
    }

    /// <summary>How far ahead of the row it copies <see cref="PackB{T}"/> fetches a row of a non-transposed B.</summary>
    private const int PackAheadBytes = 6 << 10;

    /// <summary>Fetches the lines of a run of bytes into L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchRun(byte* start, int bytes)
    {
        for (int offset = 0; offset < bytes; offset += 64)
            Sse.Prefetch0(start + offset);
        Sse.Prefetch0(start + bytes - 1);
    }

    /// <summary>Columns a packed B panel holds per k step: <paramref name="nr"/> for a full panel,
    /// else <paramref name="width"/> rounded up to whole vectors.</summary>
    public static int PanelWidth(int width, int nr, int lanes) => Math.Min(nr, (width + lanes - 1) / lanes * lanes);

    /// <summary>The side of the register transpose for T (8×8 float, 4×4 double with AVX), or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int? TransposeBlock<T>() where T : unmanaged
    {
        if (!Avx.IsSupported)
            return null;
        if (typeof(T) == typeof(float))
            return 8;
        if (typeof(T) == typeof(double))
            return 4;
        return null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose<T>(T* src, int srcStride, T* dst, int dstStride) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            BlockTranspose.Transpose8x8((float*)src, srcStride, (float*)dst, dstStride);
        else
            BlockTranspose.Transpose4x4((double*)src, srcStride, (double*)dst, dstStride);
    }

    /// <summary>dst[p·stride] = src[p] for p below count: one row of a panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scatter<T>(T* src, int count, T* dst, int stride) where T : unmanaged
    {
        for (T* end = src + count; src < end; src++, dst += stride)
            *dst = *src;
    }

    /// <summary>Zeroes the padding row or column of a panel, at the same stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fill<T>(T* dst, int count, int stride) where T : unmanaged
    {
        for (int p = 0; p < count; p++, dst += stride)
            *dst = default;
    }

    /// <summary>Copies count values and zeroes the rest of a panel step of the given size; a
    /// plain loop, as these runs are too short for a memmove call to pay.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyPadded<T>(T* src, int count, T* dst, int size) where T : unmanaged
    {
        for (int i = 0; i < size; i++)
            dst[i] = i < count ? src[i] : default;
    }

    /// <summary>Copies a panel row of whole vectors (a whole number of Vector256: the kernels' lanes
    /// are 8 or 16 floats); an inline vector loop beats a memmove call for these short runs.</summary>
    private static void CopyVectors<T>(T* src, T* dst, int count) where T : unmanaged
    {
        for (int j = 0; j < count; j += Vector256<T>.Count)
            Vector256.Store(Vector256.Load(src + j), dst + j);
    }
}

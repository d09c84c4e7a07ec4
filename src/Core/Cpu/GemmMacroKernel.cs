using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Numerics;

namespace DeformEngine.Cpu;

/// <summary>Sweeps the micro-kernel over packed A panels and a task's packed B slice. The A panel
/// loop is outside: one Rows×kc A panel stays in L1 while the slice's B panels stream from L2, which
/// lets kc be deep (the B side is the wide one) so that C is visited fewer times. The full tiles'
/// kernel calls prefetch the source of the block the task packs next (<see cref="GemmPrefetch"/>),
/// a few lines every eight k steps. Given <c>sourceB</c> (a non-transposed op(B) where it is stored, row stride
/// <c>ldb</c>), the first row panel swept has its full tiles read B there and store it into the packed slice as they go
/// (<see cref="GemmPackingPanel{T}"/>), for the later row panels to read; the caller has packed only a partial
/// last panel, and the first row panel swept must then be a full one. The A panels come through a
/// <see cref="GemmPanelsA{T}"/>, which may pack each one as the sweep reaches it. Given a <see cref="GemmTail{T}"/>, the row panels in
/// its window also compute a partial panel packed after the slice, into its own place in C. A partial panel the kernel
/// computes with C's rows in the lanes (<see cref="IGemmKernel{T}.ColumnTailWidth"/>, <see cref="GemmColumnTail"/>) is
/// left out of the sweep and computed after it.</summary>
internal static unsafe class GemmMacroKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TKernel>(int rows, int columns, int kc, T* packedA, T* packedB,
        T* c, int ldc, T alpha, T beta, bool overwrite, GemmPrefetch next, T* sourceB = null, long ldb = 0, GemmTail<T> tail = default)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IGemmKernel<T> =>
        Run<T, TKernel>(rows, columns, kc, new GemmPanelsA<T>(packedA), 0, packedB, c, ldc, alpha, beta, overwrite, next, sourceB, ldb, tail);

    /// <summary>The sweep over the row panels of <paramref name="panelsA"/>, starting at row panel
    /// <paramref name="startPanel"/> and wrapping round (the order of the row panels changes no element's sums).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TKernel>(int rows, int columns, int kc, GemmPanelsA<T> panelsA, int startPanel, T* packedB,
        T* c, int ldc, T alpha, T beta, bool overwrite, GemmPrefetch next, T* sourceB = null, long ldb = 0, GemmTail<T> tail = default)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IGemmKernel<T>
    {
        int mr = TKernel.Rows, nr = TKernel.Columns;
        int rowPanels = (rows + mr - 1) / mr;
        Debug.Assert(sourceB == null || (startPanel + 1) * mr <= rows, "B packed as read needs a full first row panel.");
        T* tile = stackalloc T[mr * nr];
        // A last partial panel narrow enough for GemmColumnTail is left out of the sweep and computed after it, over
        // all the row panels at once (as is the shared partial panel of a GemmTail).
        int narrowStart = columns / nr * nr, narrowWidth = columns - narrowStart;
        bool narrowByColumns = narrowWidth > 0 && narrowWidth <= TKernel.ColumnTailWidth;
        bool tailByColumns = tail.Columns > 0 && tail.Columns <= TKernel.ColumnTailWidth;
        Debug.Assert(tail.Columns == 0 || narrowWidth == 0, "A slice that shares a partial panel is whole panels.");
        int sweptColumns = narrowByColumns ? narrowStart : columns;
        // The next block's prefetches, spread evenly over this block's tiles.
        long tiles = Math.Max(1, (long)rowPanels * ((sweptColumns + nr - 1) / nr));
        int perTile = (int)Math.Min(int.MaxValue, (next.Count + tiles - 1) / tiles);
        int perEightSteps = (int)Math.Min(int.MaxValue, (perTile + Math.Max(1, kc / 8) - 1L) / Math.Max(1, kc / 8));
        var none = default(GemmPrefetch);
        for (int index = 0, panel = startPanel; index < rowPanels; index++, panel = panel + 1 == rowPanels ? 0 : panel + 1)
        {
            int ir = panel * mr;
            int height = Math.Min(mr, rows - ir);
            T* a = panelsA.Panel(ir, kc, mr);
            int end = !tailByColumns && tail.Columns > 0 && ir >= tail.FirstRow && ir < tail.EndRow ? columns + tail.Columns : sweptColumns;
            for (int jr = 0; jr < end; jr += nr)
            {
                int width = Math.Min(nr, end - jr);
                T* b = packedB + (long)jr * kc;
                T* cTile = jr < columns ? c + (long)ir * ldc + jr : tail.C + (long)ir * ldc;
                if (height == mr && width == nr)
                {
                    if (sourceB != null && index == 0)
                        TKernel.Multiply(kc, a, new GemmPackingPanel<T>(sourceB + jr, ldb, b), cTile, ldc, alpha, beta, overwrite,
                            ref next, perEightSteps);
                    else
                        TKernel.Multiply(kc, a, new GemmPackedPanel<T>(b), cTile, ldc, alpha, beta, overwrite, ref next, perEightSteps);
                    continue;
                }
                next.Issue(perTile);
                // A last, narrower panel runs the narrow kernel over the vectors it holds.
                int panelWidth = GemmPacking.PanelWidth(width, nr, TKernel.VectorLanes);
                if (height == mr && width == panelWidth)
                {
                    TKernel.MultiplyNarrow(panelWidth / TKernel.VectorLanes, kc, a, b, cTile, ldc, alpha, beta, overwrite);
                    continue;
                }
                // A last row panel of four or more rows at full width: its first four rows straight into C (AVX2,
                // m = 64: weight gradients +2–3 % in one process; the same sums as through the scratch tile).
                int done = 0;
                if (height >= 4 && width == nr)
                {
                    TKernel.MultiplyFourRows(kc, a, b, cTile, ldc, alpha, beta, overwrite);
                    if (height == 4)
                        continue;
                    done = 4;
                }
                // Edge tile: the kernel writes the bare sums (alpha = 1 is exact) to a scratch tile
                // and only the valid part reaches C, updated exactly as GemmSimd.Update does.
                if (panelWidth == nr)
                    TKernel.Multiply(kc, a, new GemmPackedPanel<T>(b), tile, nr, T.One, T.Zero, overwrite: true, ref none, 0);
                else
                    TKernel.MultiplyNarrow(panelWidth / TKernel.VectorLanes, kc, a, b, tile, nr, T.One, T.Zero, overwrite: true);
                for (int ii = done; ii < height; ii++)
                {
                    T* cRow = cTile + (long)ii * ldc;
                    T* tileRow = tile + ii * nr;
                    for (int jj = 0; jj < width; jj++)
                        cRow[jj] = overwrite
                            ? tileRow[jj] * alpha
                            : T.FusedMultiplyAdd(tileRow[jj], alpha, beta * cRow[jj]);
                }
            }
        }
        if (narrowByColumns)
            ColumnTail<T, TKernel>(0, rows, kc, panelsA, packedB + (long)narrowStart * kc, GemmPacking.PanelWidth(narrowWidth, nr, TKernel.VectorLanes),
                narrowWidth, c + narrowStart, ldc, alpha, beta, overwrite);
        if (tailByColumns && tail.FirstRow < Math.Min(tail.EndRow, rows))
            ColumnTail<T, TKernel>(tail.FirstRow, Math.Min(tail.EndRow, rows), kc, panelsA, packedB + (long)columns * kc,
                GemmPacking.PanelWidth(tail.Columns, nr, TKernel.VectorLanes), tail.Columns, tail.C, ldc, alpha, beta, overwrite);
    }

    /// <summary>The rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) (whole row panels from the first) of a
    /// partial panel of <paramref name="width"/> columns packed at <paramref name="packedB"/>, into C at
    /// <paramref name="c"/> (the task's first row), by <see cref="GemmColumnTail"/>.</summary>
    private static void ColumnTail<T, TKernel>(int firstRow, int endRow, int kc, GemmPanelsA<T> panelsA, T* packedB, int bStep,
        int width, T* c, int ldc, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IGemmKernel<T>
    {
        Debug.Assert(width <= TKernel.ColumnTailWidth);
        int mr = TKernel.Rows, groupRows = GemmColumnTail.Panels(width) * mr;
        for (int ir = firstRow; ir < endRow; ir += groupRows)
        {
            int rows = Math.Min(groupRows, endRow - ir);
            // Every panel was reached by the sweep, so all are packed; asking makes sure of it.
            for (int r = ir + mr; r < ir + rows; r += mr)
                panelsA.Panel(r, kc, mr);
            T* a = panelsA.Panel(ir, kc, mr);
            TKernel.MultiplyColumnTail(width, rows, kc, a, packedB, bStep, c + (long)ir * ldc, ldc, alpha, beta, overwrite);
        }
    }
}

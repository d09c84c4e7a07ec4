using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DeformEngine.Cpu;

/// <summary>A last partial panel of at most half a vector of columns for the 8-row AVX-512 kernel (8 float, 4 double),
/// computed with C's rows in the vector lanes: per k step, one load of a packed A panel (its 8 rows: a Vector256 of
/// float, zero-extended, or a Vector512 of double) against one broadcast of B per column. The row kernels put the
/// columns in the lanes, so such a panel left at least half of each Vector512 idle: float ran at a sixteenth (one
/// column) to a half (eight) of their rate, and n = 49 (7×7 positions) spent a quarter of its kernel time on its last
/// column, n = 392 7 %. Here the 8 rows fill a double vector and half a float one whatever the width, and several
/// panels (or columns) share each load, so that each call keeps 16 accumulator chains going.</summary>
/// <remarks>Each element of C gets the same sums as from the row kernels, in the same order: acc = fma(a[i, p],
/// b[p, j], acc) for p = 0, 1, …, then the update of <see cref="GemmSimd.Update{T}(T*, Vector256{T}, Vector256{T},
/// Vector256{T}, bool)"/>, element by element. So the results are bitwise those of the row kernels.</remarks>
internal static unsafe class GemmColumnTail
{
    /// <summary>Rows of one packed A panel (the AVX-512 kernel's): the lanes the sums occupy.</summary>
    public const int PanelRows = 8;

    /// <summary>The widest partial panel computed here: half a Vector512, beyond which the row kernels waste less than
    /// half of their lanes.</summary>
    public static int MaxColumns<T>() => Vector512<T>.Count / 2;

    /// <summary>How many A panels one call takes for a partial panel of <paramref name="columns"/> columns.</summary>
    public static int Panels(int columns) => columns <= 2 ? 8 : columns <= 4 ? 4 : 2;

    /// <summary>C[i, j] for the <paramref name="rows"/> rows from <paramref name="c"/> (at most
    /// <see cref="Panels"/>·8) and the <paramref name="columns"/> columns of a packed partial B panel (its k steps
    /// <paramref name="bStep"/> values apart); A's panels lie <paramref name="panelStride"/> values apart from
    /// <paramref name="a"/>, as <see cref="GemmJob{T, TKernel}"/> packs them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<T>(int columns, int rows, int kc, T* a, long panelStride, T* b, int bStep,
        T* c, int ldc, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int panels = (rows + PanelRows - 1) / PanelRows;
        // Panels past the last are read again from the last (their sums are not stored): the kernels stay branch-free.
        T* Panel(int index) => a + Math.Min(index, panels - 1) * panelStride;
        GemmSimd.PrefetchTile(c, ldc, rows, columns);
        if (columns <= 2)
            TwoColumns(kc, Panel(0), Panel(1), Panel(2), Panel(3), Panel(4), Panel(5), Panel(6), Panel(7), b, bStep, c, ldc, rows,
                columns, alpha, beta, overwrite);
        else if (columns <= 4)
            FourColumns(kc, Panel(0), Panel(1), Panel(2), Panel(3), b, bStep, c, ldc, rows, columns, alpha, beta, overwrite);
        else
            EightColumns(kc, Panel(0), Panel(1), b, bStep, c, ldc, rows, columns, alpha, beta, overwrite);
    }

    /// <summary>Eight panels (64 rows) by two columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoColumns<T>(int kc, T* a0, T* a1, T* a2, T* a3, T* a4, T* a5, T* a6, T* a7,
        T* b, int bStep, T* c, int ldc, int rows, int columns, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<T> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0, offset = 0; p < kc; p++, offset += PanelRows, b += bStep)
        {
            Vector512<T> b0 = Vector512.Create(b[0]), b1 = Vector512.Create(b[1]);
            Step(Rows(a0 + offset), b0, b1, ref c00, ref c01);
            Step(Rows(a1 + offset), b0, b1, ref c10, ref c11);
            Step(Rows(a2 + offset), b0, b1, ref c20, ref c21);
            Step(Rows(a3 + offset), b0, b1, ref c30, ref c31);
            Step(Rows(a4 + offset), b0, b1, ref c40, ref c41);
            Step(Rows(a5 + offset), b0, b1, ref c50, ref c51);
            Step(Rows(a6 + offset), b0, b1, ref c60, ref c61);
            Step(Rows(a7 + offset), b0, b1, ref c70, ref c71);
        }
        var s = new Store<T>(c, ldc, rows, columns, alpha, beta, overwrite);
        s.Column(0, 0, c00); s.Column(0, 1, c01); s.Column(1, 0, c10); s.Column(1, 1, c11);
        s.Column(2, 0, c20); s.Column(2, 1, c21); s.Column(3, 0, c30); s.Column(3, 1, c31);
        s.Column(4, 0, c40); s.Column(4, 1, c41); s.Column(5, 0, c50); s.Column(5, 1, c51);
        s.Column(6, 0, c60); s.Column(6, 1, c61); s.Column(7, 0, c70); s.Column(7, 1, c71);
    }

    /// <summary>Four panels (32 rows) by four columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourColumns<T>(int kc, T* a0, T* a1, T* a2, T* a3,
        T* b, int bStep, T* c, int ldc, int rows, int columns, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int p = 0, offset = 0; p < kc; p++, offset += PanelRows, b += bStep)
        {
            Vector512<T> b0 = Vector512.Create(b[0]), b1 = Vector512.Create(b[1]), b2 = Vector512.Create(b[2]), b3 = Vector512.Create(b[3]);
            Step(Rows(a0 + offset), b0, b1, b2, b3, ref c00, ref c01, ref c02, ref c03);
            Step(Rows(a1 + offset), b0, b1, b2, b3, ref c10, ref c11, ref c12, ref c13);
            Step(Rows(a2 + offset), b0, b1, b2, b3, ref c20, ref c21, ref c22, ref c23);
            Step(Rows(a3 + offset), b0, b1, b2, b3, ref c30, ref c31, ref c32, ref c33);
        }
        var s = new Store<T>(c, ldc, rows, columns, alpha, beta, overwrite);
        s.Column(0, 0, c00); s.Column(0, 1, c01); s.Column(0, 2, c02); s.Column(0, 3, c03);
        s.Column(1, 0, c10); s.Column(1, 1, c11); s.Column(1, 2, c12); s.Column(1, 3, c13);
        s.Column(2, 0, c20); s.Column(2, 1, c21); s.Column(2, 2, c22); s.Column(2, 3, c23);
        s.Column(3, 0, c30); s.Column(3, 1, c31); s.Column(3, 2, c32); s.Column(3, 3, c33);
    }

    /// <summary>Two panels (16 rows) by eight columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EightColumns<T>(int kc, T* a0, T* a1,
        T* b, int bStep, T* c, int ldc, int rows, int columns, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default, c04 = default, c05 = default, c06 = default, c07 = default;
        Vector512<T> c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default, c16 = default, c17 = default;
        for (int p = 0, offset = 0; p < kc; p++, offset += PanelRows, b += bStep)
        {
            Vector512<T> x0 = Rows(a0 + offset), x1 = Rows(a1 + offset);
            Vector512<T> y = Vector512.Create(b[0]);
            c00 = GemmSimd.Fma(x0, y, c00);
            c10 = GemmSimd.Fma(x1, y, c10);
            y = Vector512.Create(b[1]);
            c01 = GemmSimd.Fma(x0, y, c01);
            c11 = GemmSimd.Fma(x1, y, c11);
            y = Vector512.Create(b[2]);
            c02 = GemmSimd.Fma(x0, y, c02);
            c12 = GemmSimd.Fma(x1, y, c12);
            y = Vector512.Create(b[3]);
            c03 = GemmSimd.Fma(x0, y, c03);
            c13 = GemmSimd.Fma(x1, y, c13);
            y = Vector512.Create(b[4]);
            c04 = GemmSimd.Fma(x0, y, c04);
            c14 = GemmSimd.Fma(x1, y, c14);
            y = Vector512.Create(b[5]);
            c05 = GemmSimd.Fma(x0, y, c05);
            c15 = GemmSimd.Fma(x1, y, c15);
            y = Vector512.Create(b[6]);
            c06 = GemmSimd.Fma(x0, y, c06);
            c16 = GemmSimd.Fma(x1, y, c16);
            y = Vector512.Create(b[7]);
            c07 = GemmSimd.Fma(x0, y, c07);
            c17 = GemmSimd.Fma(x1, y, c17);
        }
        var s = new Store<T>(c, ldc, rows, columns, alpha, beta, overwrite);
        s.Column(0, 0, c00); s.Column(0, 1, c01); s.Column(0, 2, c02); s.Column(0, 3, c03);
        s.Column(0, 4, c04); s.Column(0, 5, c05); s.Column(0, 6, c06); s.Column(0, 7, c07);
        s.Column(1, 0, c10); s.Column(1, 1, c11); s.Column(1, 2, c12); s.Column(1, 3, c13);
        s.Column(1, 4, c14); s.Column(1, 5, c15); s.Column(1, 6, c16); s.Column(1, 7, c17);
    }

    /// <summary>The 8 rows of one k step of a packed A panel: a Vector256 of float, zero-extended, or a Vector512 of
    /// double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Rows<T>(T* step) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector256.Load((float*)step).ToVector512().As<float, T>();
        return Vector512.Load(step);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<T>(Vector512<T> a, Vector512<T> b0, Vector512<T> b1, ref Vector512<T> c0, ref Vector512<T> c1)
        where T : unmanaged
    {
        c0 = GemmSimd.Fma(a, b0, c0);
        c1 = GemmSimd.Fma(a, b1, c1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<T>(Vector512<T> a, Vector512<T> b0, Vector512<T> b1, Vector512<T> b2, Vector512<T> b3,
        ref Vector512<T> c0, ref Vector512<T> c1, ref Vector512<T> c2, ref Vector512<T> c3)
        where T : unmanaged
    {
        c0 = GemmSimd.Fma(a, b0, c0);
        c1 = GemmSimd.Fma(a, b1, c1);
        c2 = GemmSimd.Fma(a, b2, c2);
        c3 = GemmSimd.Fma(a, b3, c3);
    }

    /// <summary>Writes one accumulator (column j of one panel's 8 rows) into C, skipping rows and columns past the
    /// ends.</summary>
    private readonly ref struct Store<T>(T* c, int ldc, int rows, int columns, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Column(int panel, int column, Vector512<T> sums)
        {
            int first = panel * PanelRows, count = Math.Min(PanelRows, rows - first);
            if (column >= columns || count <= 0)
                return;
            T* target = c + (long)first * ldc + column;
            for (int i = 0; i < count; i++, target += ldc)
                *target = overwrite ? sums.GetElement(i) * alpha : T.FusedMultiplyAdd(sums.GetElement(i), alpha, beta * *target);
        }
    }
}

using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeformEngine.Cpu;

/// <summary>A last partial panel of at most half a vector of columns (the AVX-512 kernel: 8 float or 4 double; the AVX2
/// one: 4 float), computed with C's rows in the vector lanes: per k step, one load of a packed A panel's rows (its 8 rows
/// as a Vector256 of float zero-extended or a Vector512 of double; the AVX2 kernel's 6 rows in a Vector256 of float)
/// against one broadcast of B per column. The row kernels put the columns in the lanes, so such a panel left at least
/// half of each vector idle: the AVX-512 float kernel ran at a sixteenth (one column) to a half (eight) of its rate, and
/// n = 49 (7×7 positions) spent a quarter of its kernel time on its last column, n = 392 7 %. Here the rows fill half a
/// vector or more whatever the width, and several panels (or columns) share each load, so that each call keeps 16
/// accumulator chains going.</summary>
/// <remarks>Each element of C gets the same sums as from the row kernels, in the same order: acc = fma(a[i, p],
/// b[p, j], acc) for p = 0, 1, …, then the update of <see cref="GemmSimd.Update{T}(T*, Vector256{T}, Vector256{T},
/// Vector256{T}, bool)"/>, element by element. So the results are bitwise those of the row kernels.</remarks>
internal static unsafe class GemmColumnTail
{
    /// <summary>How many A panels one call takes for a partial panel of <paramref name="columns"/> columns.</summary>
    public static int Panels(int columns) => columns <= 2 ? 8 : columns <= 4 ? 4 : 2;

    /// <summary>C[i, j] for the <paramref name="rows"/> rows from <paramref name="c"/> (at most
    /// <see cref="Panels"/>·<typeparamref name="TL"/>.Rows) and the <paramref name="columns"/> columns of a packed partial B panel (its k steps
    /// <paramref name="bStep"/> values apart); A's panels lie <paramref name="panelStride"/> values apart from
    /// <paramref name="a"/>, as <see cref="GemmJob{T, TKernel}"/> packs them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<T, TL>(int columns, int rows, int kc, T* a, long panelStride, T* b, int bStep,
        T* c, int ldc, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TL : struct, IColumnLanes<TL, T>
    {
        Debug.Assert(columns <= TL.MaxColumns && rows <= Panels(columns) * TL.Rows);
        int panels = (rows + TL.Rows - 1) / TL.Rows;
        // Panels past the last are read again from the last (their sums are not stored): the kernels stay branch-free.
        T* Panel(int index) => a + Math.Min(index, panels - 1) * panelStride;
        GemmSimd.PrefetchTile(c, ldc, rows, columns);
        if (columns <= 2)
            TwoColumns<T, TL>(kc, Panel(0), Panel(1), Panel(2), Panel(3), Panel(4), Panel(5), Panel(6), Panel(7), b, bStep, c, ldc, rows,
                columns, alpha, beta, overwrite);
        else if (columns <= 4)
            FourColumns<T, TL>(kc, Panel(0), Panel(1), Panel(2), Panel(3), b, bStep, c, ldc, rows, columns, alpha, beta, overwrite);
        else
            EightColumns<T, TL>(kc, Panel(0), Panel(1), b, bStep, c, ldc, rows, columns, alpha, beta, overwrite);
    }

    /// <summary>Eight panels by two columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoColumns<T, TL>(int kc, T* a0, T* a1, T* a2, T* a3, T* a4, T* a5, T* a6, T* a7,
        T* b, int bStep, T* c, int ldc, int rows, int columns, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TL : struct, IColumnLanes<TL, T>
    {
        TL c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        TL c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        TL c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0, offset = 0; p < kc; p++, offset += TL.Rows, b += bStep)
        {
            TL b0 = TL.Broadcast(b[0]), b1 = TL.Broadcast(b[1]);
            Step<T, TL>(TL.Load(a0 + offset), b0, b1, ref c00, ref c01);
            Step<T, TL>(TL.Load(a1 + offset), b0, b1, ref c10, ref c11);
            Step<T, TL>(TL.Load(a2 + offset), b0, b1, ref c20, ref c21);
            Step<T, TL>(TL.Load(a3 + offset), b0, b1, ref c30, ref c31);
            Step<T, TL>(TL.Load(a4 + offset), b0, b1, ref c40, ref c41);
            Step<T, TL>(TL.Load(a5 + offset), b0, b1, ref c50, ref c51);
            Step<T, TL>(TL.Load(a6 + offset), b0, b1, ref c60, ref c61);
            Step<T, TL>(TL.Load(a7 + offset), b0, b1, ref c70, ref c71);
        }
        var s = new Store<T, TL>(c, ldc, rows, columns, alpha, beta, overwrite);
        s.Column(0, 0, c00); s.Column(0, 1, c01); s.Column(1, 0, c10); s.Column(1, 1, c11);
        s.Column(2, 0, c20); s.Column(2, 1, c21); s.Column(3, 0, c30); s.Column(3, 1, c31);
        s.Column(4, 0, c40); s.Column(4, 1, c41); s.Column(5, 0, c50); s.Column(5, 1, c51);
        s.Column(6, 0, c60); s.Column(6, 1, c61); s.Column(7, 0, c70); s.Column(7, 1, c71);
    }

    /// <summary>Four panels by four columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourColumns<T, TL>(int kc, T* a0, T* a1, T* a2, T* a3,
        T* b, int bStep, T* c, int ldc, int rows, int columns, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TL : struct, IColumnLanes<TL, T>
    {
        TL c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        TL c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int p = 0, offset = 0; p < kc; p++, offset += TL.Rows, b += bStep)
        {
            TL b0 = TL.Broadcast(b[0]), b1 = TL.Broadcast(b[1]), b2 = TL.Broadcast(b[2]), b3 = TL.Broadcast(b[3]);
            Step<T, TL>(TL.Load(a0 + offset), b0, b1, b2, b3, ref c00, ref c01, ref c02, ref c03);
            Step<T, TL>(TL.Load(a1 + offset), b0, b1, b2, b3, ref c10, ref c11, ref c12, ref c13);
            Step<T, TL>(TL.Load(a2 + offset), b0, b1, b2, b3, ref c20, ref c21, ref c22, ref c23);
            Step<T, TL>(TL.Load(a3 + offset), b0, b1, b2, b3, ref c30, ref c31, ref c32, ref c33);
        }
        var s = new Store<T, TL>(c, ldc, rows, columns, alpha, beta, overwrite);
        s.Column(0, 0, c00); s.Column(0, 1, c01); s.Column(0, 2, c02); s.Column(0, 3, c03);
        s.Column(1, 0, c10); s.Column(1, 1, c11); s.Column(1, 2, c12); s.Column(1, 3, c13);
        s.Column(2, 0, c20); s.Column(2, 1, c21); s.Column(2, 2, c22); s.Column(2, 3, c23);
        s.Column(3, 0, c30); s.Column(3, 1, c31); s.Column(3, 2, c32); s.Column(3, 3, c33);
    }

    /// <summary>Two panels by eight columns (only the AVX-512 float kernel has partial panels that wide).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EightColumns<T, TL>(int kc, T* a0, T* a1,
        T* b, int bStep, T* c, int ldc, int rows, int columns, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TL : struct, IColumnLanes<TL, T>
    {
        TL c00 = default, c01 = default, c02 = default, c03 = default, c04 = default, c05 = default, c06 = default, c07 = default;
        TL c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default, c16 = default, c17 = default;
        for (int p = 0, offset = 0; p < kc; p++, offset += TL.Rows, b += bStep)
        {
            TL x0 = TL.Load(a0 + offset), x1 = TL.Load(a1 + offset);
            TL y = TL.Broadcast(b[0]);
            c00 = TL.Fma(x0, y, c00);
            c10 = TL.Fma(x1, y, c10);
            y = TL.Broadcast(b[1]);
            c01 = TL.Fma(x0, y, c01);
            c11 = TL.Fma(x1, y, c11);
            y = TL.Broadcast(b[2]);
            c02 = TL.Fma(x0, y, c02);
            c12 = TL.Fma(x1, y, c12);
            y = TL.Broadcast(b[3]);
            c03 = TL.Fma(x0, y, c03);
            c13 = TL.Fma(x1, y, c13);
            y = TL.Broadcast(b[4]);
            c04 = TL.Fma(x0, y, c04);
            c14 = TL.Fma(x1, y, c14);
            y = TL.Broadcast(b[5]);
            c05 = TL.Fma(x0, y, c05);
            c15 = TL.Fma(x1, y, c15);
            y = TL.Broadcast(b[6]);
            c06 = TL.Fma(x0, y, c06);
            c16 = TL.Fma(x1, y, c16);
            y = TL.Broadcast(b[7]);
            c07 = TL.Fma(x0, y, c07);
            c17 = TL.Fma(x1, y, c17);
        }
        var s = new Store<T, TL>(c, ldc, rows, columns, alpha, beta, overwrite);
        s.Column(0, 0, c00); s.Column(0, 1, c01); s.Column(0, 2, c02); s.Column(0, 3, c03);
        s.Column(0, 4, c04); s.Column(0, 5, c05); s.Column(0, 6, c06); s.Column(0, 7, c07);
        s.Column(1, 0, c10); s.Column(1, 1, c11); s.Column(1, 2, c12); s.Column(1, 3, c13);
        s.Column(1, 4, c14); s.Column(1, 5, c15); s.Column(1, 6, c16); s.Column(1, 7, c17);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<T, TL>(TL a, TL b0, TL b1, ref TL c0, ref TL c1)
        where T : unmanaged
        where TL : struct, IColumnLanes<TL, T>
    {
        c0 = TL.Fma(a, b0, c0);
        c1 = TL.Fma(a, b1, c1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<T, TL>(TL a, TL b0, TL b1, TL b2, TL b3, ref TL c0, ref TL c1, ref TL c2, ref TL c3)
        where T : unmanaged
        where TL : struct, IColumnLanes<TL, T>
    {
        c0 = TL.Fma(a, b0, c0);
        c1 = TL.Fma(a, b1, c1);
        c2 = TL.Fma(a, b2, c2);
        c3 = TL.Fma(a, b3, c3);
    }

    /// <summary>Writes one accumulator (column j of one panel's rows) into C, skipping rows and columns past the
    /// ends.</summary>
    private readonly ref struct Store<T, TL>(T* c, int ldc, int rows, int columns, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TL : struct, IColumnLanes<TL, T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Column(int panel, int column, TL sums)
        {
            int first = panel * TL.Rows, count = Math.Min(TL.Rows, rows - first);
            if (column >= columns || count <= 0)
                return;
            T* target = c + (long)first * ldc + column;
            for (int i = 0; i < count; i++, target += ldc)
                *target = overwrite ? TL.Lane(sums, i) * alpha : T.FusedMultiplyAdd(TL.Lane(sums, i), alpha, beta * *target);
        }
    }
}

/// <summary>The rows of one k step of a packed A panel, one per lane, as <see cref="GemmColumnTail"/> computes with them:
/// implemented by structs over one vector, so that the kernels, generic over them, compile to plain vector code.</summary>
internal unsafe interface IColumnLanes<TSelf, T>
    where TSelf : struct, IColumnLanes<TSelf, T>
    where T : unmanaged
{
    /// <summary>Rows of a packed A panel: the lanes that hold sums.</summary>
    static abstract int Rows { get; }

    /// <summary>The widest partial panel worth computing this way: half the row kernel's vector.</summary>
    static abstract int MaxColumns { get; }

    /// <summary>The <see cref="Rows"/> values of one k step of a packed A panel (reading nothing past them).</summary>
    static abstract TSelf Load(T* step);

    static abstract TSelf Broadcast(T value);

    static abstract TSelf Fma(TSelf x, TSelf y, TSelf addend);

    static abstract T Lane(TSelf sums, int lane);
}

/// <summary>The AVX-512 kernel's 8-row panels: a Vector512 of double, or 8 floats zero-extended to a Vector512 (its FMAs
/// cost what Vector256 ones do).</summary>
internal readonly unsafe struct ColumnLanes512<T> : IColumnLanes<ColumnLanes512<T>, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Vector512<T> _value;

    private ColumnLanes512(Vector512<T> value) => _value = value;

    public static int Rows => 8;

    public static int MaxColumns => Vector512<T>.Count / 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ColumnLanes512<T> Load(T* step) => new(typeof(T) == typeof(float)
        ? Vector256.Load((float*)step).ToVector512().As<float, T>()
        : Vector512.Load(step));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ColumnLanes512<T> Broadcast(T value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ColumnLanes512<T> Fma(ColumnLanes512<T> x, ColumnLanes512<T> y, ColumnLanes512<T> addend) =>
        new(GemmSimd.Fma(x._value, y._value, addend._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Lane(ColumnLanes512<T> sums, int lane) => sums._value.GetElement(lane);
}

/// <summary>The AVX2 kernel's 6-row float panels in a Vector256 (two lanes idle), loaded under a mask so that the last
/// step of the last panel reads nothing past it.</summary>
internal readonly unsafe struct ColumnLanes256 : IColumnLanes<ColumnLanes256, float>
{
    private readonly Vector256<float> _value;

    private ColumnLanes256(Vector256<float> value) => _value = value;

    public static int Rows => 6;

    public static int MaxColumns => Vector256<float>.Count / 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ColumnLanes256 Load(float* step) => Avx.IsSupported
        ? new(Avx.MaskLoad(step, Vector256.Create(-1f, -1f, -1f, -1f, -1f, -1f, 0f, 0f)))
        : new(Vector256.Create(step[0], step[1], step[2], step[3], step[4], step[5], 0f, 0f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ColumnLanes256 Broadcast(float value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ColumnLanes256 Fma(ColumnLanes256 x, ColumnLanes256 y, ColumnLanes256 addend) =>
        new(GemmSimd.Fma(x._value, y._value, addend._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Lane(ColumnLanes256 sums, int lane) => sums._value.GetElement(lane);
}

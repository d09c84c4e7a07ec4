using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeformEngine.Cpu;

/// <summary>Where a full micro-kernel call reads its B panel: each k step's <c>columns</c> values, k steps
/// in order. Implemented by structs so that the kernel, generic over it, is specialised for each.</summary>
internal unsafe interface IGemmPanelB<T> where T : unmanaged
{
    /// <summary>The values of the k step <paramref name="step"/> steps after the current one.</summary>
    T* At(int step, int columns);

    /// <summary>Called with each vector the kernel loaded from <see cref="At"/>, at its offset in the step.</summary>
    void Keep(int step, int columns, int offset, Vector256<T> values);

    /// <inheritdoc cref="Keep(int, int, int, Vector256{T})"/>
    void Keep(int step, int columns, int offset, Vector512<T> values);

    /// <summary>Moves on by <paramref name="steps"/> k steps.</summary>
    void Next(int steps, int columns);

    /// <summary>Starts fetching the values of a k step some way ahead, where the panel is not read in order.</summary>
    void FetchAhead(int step, int columns);
}

/// <summary>A packed B panel (<see cref="GemmPacking.PackB{T}"/>): the k steps one after another.</summary>
internal unsafe struct GemmPackedPanel<T>(T* packed) : IGemmPanelB<T> where T : unmanaged
{
    private T* _step = packed;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly T* At(int step, int columns) => _step + step * columns;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Keep(int step, int columns, int offset, Vector256<T> values) { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Keep(int step, int columns, int offset, Vector512<T> values) { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next(int steps, int columns) => _step += steps * columns;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void FetchAhead(int step, int columns) { }
}

/// <summary>A full panel of a non-transposed op(B) read where it is stored (row stride <c>ldb</c>), packed as
/// it is read: the kernel stores each vector it loads into the packed panel, in the layout of
/// <see cref="GemmPacking.PackB{T}"/>, so that a slice's first row panel packs it instead of a separate pass
/// (see <see cref="GemmMacroKernel"/>).</summary>
internal unsafe struct GemmPackingPanel<T>(T* source, long ldb, T* packed) : IGemmPanelB<T> where T : unmanaged
{
    private T* _source = source, _packed = packed;
    private readonly long _ldb = ldb;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly T* At(int step, int columns) => _source + step * _ldb;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Keep(int step, int columns, int offset, Vector256<T> values) =>
        Vector256.Store(values, _packed + step * columns + offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Keep(int step, int columns, int offset, Vector512<T> values) =>
        Vector512.Store(values, _packed + step * columns + offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next(int steps, int columns)
    {
        _source += steps * _ldb;
        _packed += steps * columns;
    }

    /// <summary>k steps ahead of the one read that <see cref="FetchAhead"/> fetches: 32 steps of the AVX-512
    /// kernel are about 400 cycles, L3's latency with room to spare (in one process 8 and 16 steps were 1–5 % slower, 64 no faster).</summary>
    private const int Distance = 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void FetchAhead(int step, int columns)
    {
        if (Sse.IsSupported)
            GemmPacking.PrefetchRun((byte*)(_source + (Distance + step) * _ldb), columns * sizeof(T));
    }
}

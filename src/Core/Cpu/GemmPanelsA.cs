using System.Runtime.CompilerServices;

namespace DeformEngine.Cpu;

/// <summary>The packed op(A) row panels one task reads in one depth step: packed beforehand, or packed by
/// whichever task reaches a panel first (<see cref="GemmJob{T, TKernel}"/>), the others then reading it.</summary>
internal readonly unsafe struct GemmPanelsA<T> where T : unmanaged
{
    private const int Unpacked = 0, Packing = 1, Packed = 2;

    private readonly T* _packed;
    private readonly int* _state;
    private readonly T* _a;
    private readonly int _lda, _i0, _rows, _p0;
    private readonly bool _transA;

    /// <summary>Panels already packed, the task's first at <paramref name="packed"/>.</summary>
    public GemmPanelsA(T* packed) => _packed = packed;

    /// <summary>Panels packed on first touch: the task's rows are op(A)'s rows [i0, i0 + rows) at depth
    /// [p0, p0 + kc), and <paramref name="state"/> holds one entry per panel, shared by the tasks that read
    /// the same panels (0: not packed; it is claimed with 1 and published with 2).</summary>
    public GemmPanelsA(T* packed, int* state, T* a, int lda, bool transA, int i0, int rows, int p0)
    {
        _packed = packed;
        _state = state;
        _a = a;
        _lda = lda;
        _transA = transA;
        _i0 = i0;
        _rows = rows;
        _p0 = p0;
    }

    /// <summary>The panel of the task's rows from <paramref name="ir"/> on, packed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T* Panel(int ir, int kc, int mr)
    {
        T* panel = _packed + (long)ir * kc;
        if (_state != null && Volatile.Read(ref _state[ir / mr]) != Packed)
            Ensure(ir, kc, mr, panel);
        return panel;
    }

    /// <summary>Packs the panel, or waits while another task packs it: a wait only ever follows a claim,
    /// so a group finishes whichever threads take part.</summary>
    private void Ensure(int ir, int kc, int mr, T* panel)
    {
        ref int state = ref _state[ir / mr];
        if (Interlocked.CompareExchange(ref state, Packing, Unpacked) == Unpacked)
        {
            GemmPacking.PackA(_a, _lda, _transA, _i0 + ir, Math.Min(mr, _rows - ir), _p0, kc, mr, panel);
            Volatile.Write(ref state, Packed);
            return;
        }
        var spinner = new SpinWait();
        while (Volatile.Read(ref state) != Packed)
            spinner.SpinOnce(sleep1Threshold: -1);
    }
}

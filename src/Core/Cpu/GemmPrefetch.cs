using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace DeformEngine.Cpu;

/// <summary>The source lines of the op(B) block a task packs next, fetched into L2 a few at a time
/// while the micro-kernel computes the current step (every eight k steps of a full tile).</summary>
/// <remarks>Packing reads its block from L3 or memory at copy speed (about 7 GB/s on one core of the
/// AVX-512 machine), which where each B element meets few rows of A (the weight gradients' m = 64) is a
/// large part of the product. Issued as a burst between kernel calls, the prefetches stalled the kernel
/// about as much as they saved the packing; spread through the kernel's k loop they overlap the FMAs: in
/// one process, one core, the N8 C64 weight gradient went from 88 to 102 GFLOP/s (AVX-512) and from 46 to
/// 51 (AVX2), the other products −1 to +11 % (docs/benchmarks.md).</remarks>
internal unsafe struct GemmPrefetch
{
    private const int Line = 64;

    private byte* _row;
    private readonly long _stride;
    private readonly int _rowBytes;
    private int _rowsLeft, _offset;

    /// <summary>A block of <paramref name="rows"/> runs of <paramref name="rowBytes"/> bytes,
    /// <paramref name="strideBytes"/> apart.</summary>
    public GemmPrefetch(byte* start, int rows, int rowBytes, long strideBytes)
    {
        _row = start;
        _rowsLeft = Sse.IsSupported ? rows : 0;
        _rowBytes = rowBytes;
        _stride = strideBytes;
        _offset = 0;
    }

    /// <summary>Prefetches <see cref="Issue"/> makes for the whole block: the lines of each run and its last byte.</summary>
    public readonly long Count => (long)_rowsLeft * ((_rowBytes + Line - 1) / Line + 1);

    /// <summary>Issues up to <paramref name="count"/> prefetches, continuing where the last call stopped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Issue(int count)
    {
        for (; count > 0 && _rowsLeft > 0; count--)
        {
            if (_offset < _rowBytes)
            {
                Sse.Prefetch1(_row + _offset);
                _offset += Line;
                continue;
            }
            // The run's last byte: its line, when the run does not start on a line boundary.
            Sse.Prefetch1(_row + _rowBytes - 1);
            _row += _stride;
            _rowsLeft--;
            _offset = 0;
        }
    }
}

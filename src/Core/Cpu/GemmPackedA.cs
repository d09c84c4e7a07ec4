using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DeformEngine.Cpu;

/// <summary>An m×k op(A) packed once into the micro-panel layout of this machine's GEMM kernel, for
/// products that reuse the same A many times (an operator's weight at inference): the product then
/// skips packing A, and its result is bitwise the same as <see cref="Gemm.Multiply{T}"/>'s, since the
/// same kernel runs over the same panels and depth steps.</summary>
internal sealed unsafe class GemmPackedA<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Alignment = 64;

    // Pinned so that the pointer stays valid; held to keep it alive.
    private readonly T[] _storage;

    private GemmPackedA(int m, int k, bool wideKernel, long length)
    {
        M = m;
        K = k;
        WideKernel = wideKernel;
        _storage = GC.AllocateUninitializedArray<T>(checked((int)(length + Alignment / sizeof(T))), pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        Pointer = (T*)((start + Alignment - 1) & ~(nint)(Alignment - 1));
    }

    public int M { get; }

    public int K { get; }

    /// <summary>Whether it was packed for the Vector512 kernel (else the Vector256 one).</summary>
    public bool WideKernel { get; }

    internal T* Pointer { get; }

    /// <summary>Bytes held.</summary>
    public long Bytes => (long)_storage.Length * sizeof(T);

    /// <summary>Packs op(A): A is stored m×k with row stride lda, or k×m when transA.</summary>
    public static GemmPackedA<T> Pack(bool transA, int m, int k, ReadOnlySpan<T> a, int lda)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Packed GEMM operands are float or double, not {typeof(T).Name}.");
        GemmArguments.ValidateA(transA, m, k, a.Length, lda);
        bool wide = GemmDriver.UsesWideKernel;
        var packed = wide ? Create<GemmKernel512<T>>(transA, m, k, a, lda) : Create<GemmKernel256<T>>(transA, m, k, a, lda);
        return packed;
    }

    private static GemmPackedA<T> Create<TKernel>(bool transA, int m, int k, ReadOnlySpan<T> a, int lda)
        where TKernel : struct, IGemmKernel<T>
    {
        var packed = new GemmPackedA<T>(m, k, typeof(TKernel) == typeof(GemmKernel512<T>), Math.Max(1, GemmJob<T, TKernel>.PackedLength(m, k)));
        if (m > 0 && k > 0)
            fixed (T* pa = a)
                GemmJob<T, TKernel>.Pack(pa, lda, transA, m, k, packed.Pointer, EngineOptions.Threads);
        return packed;
    }
}

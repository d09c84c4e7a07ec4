using System.Numerics;

namespace DeformEngine.Cpu;

/// <summary>An m×k op(A) packed once into the micro-panel layout of this machine's GEMM kernel, for
/// products that reuse the same A many times (an operator's weight at inference): the product then
/// skips packing A, and its result is bitwise the same as <see cref="Gemm.Multiply{T}"/>'s, since the
/// same kernel runs over the same panels and depth steps.</summary>
internal sealed unsafe class GemmPackedA<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // Pinned so that the pointer stays valid; held to keep it alive.
    private readonly T[] _storage;

    private GemmPackedA(int m, int k, bool wideKernel, long length)
    {
        M = m;
        K = k;
        WideKernel = wideKernel;
        _storage = CacheLine.AllocatePinned<T>(length);
        Pointer = CacheLine.Start(_storage);
    }

    public int M { get; }

    public int K { get; }

    /// <summary>Whether it was packed for the Vector512 kernel (else the Vector256 one).</summary>
    public bool WideKernel { get; }

    internal T* Pointer { get; }

    /// <summary>Bytes held.</summary>
    public long Bytes => (long)_storage.Length * sizeof(T);

    /// <summary>Packs op(A): A is stored m×k with row stride lda, or k×m when transA. With
    /// <paramref name="columnOrder"/> (k entries, A not transposed) op(A)[i, p] = A[i, columnOrder[p]]. With
    /// <paramref name="reuse"/> of the same m×k packed for this machine's kernel, the result is packed into its storage
    /// and it is returned (no allocation: a caller that repacks a changed operand of the same size, such as a weight
    /// after each training step, takes no fresh pages); the caller must know that nothing reads it meanwhile.</summary>
    public static GemmPackedA<T> Pack(bool transA, int m, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<int> columnOrder = default,
        GemmPackedA<T>? reuse = null)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Packed GEMM operands are float or double, not {typeof(T).Name}.");
        GemmArguments.ValidateA(transA, m, k, a.Length, lda);
        if (!columnOrder.IsEmpty)
            ValidateOrder(transA, k, lda, columnOrder);
        bool wide = GemmDriver.UsesWideKernel;
        if (reuse is not null && (reuse.M != m || reuse.K != k || reuse.WideKernel != wide))
            reuse = null;
        return wide
            ? Create<GemmKernel512<T>>(transA, m, k, a, lda, columnOrder, reuse)
            : Create<GemmKernel256<T>>(transA, m, k, a, lda, columnOrder, reuse);
    }

    private static void ValidateOrder(bool transA, int k, int lda, ReadOnlySpan<int> columnOrder)
    {
        if (transA)
            throw new ArgumentException("columnOrder: a column order applies to a non-transposed A only.", nameof(columnOrder));
        if (columnOrder.Length != k)
            throw new ArgumentException($"columnOrder: expected k = {k} entries, got {columnOrder.Length}.", nameof(columnOrder));
        foreach (int column in columnOrder)
            if ((uint)column >= (uint)k)
                throw new ArgumentOutOfRangeException(nameof(columnOrder), column, $"columnOrder: entries must lie in [0, {k}).");
    }

    private static GemmPackedA<T> Create<TKernel>(bool transA, int m, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<int> columnOrder,
        GemmPackedA<T>? reuse)
        where TKernel : struct, IGemmKernel<T>
    {
        var packed = reuse ?? new GemmPackedA<T>(m, k, typeof(TKernel) == typeof(GemmKernel512<T>), Math.Max(1, GemmJob<T, TKernel>.PackedLength(m, k)));
        if (m > 0 && k > 0)
            fixed (T* pa = a)
            fixed (int* order = columnOrder)
                GemmJob<T, TKernel>.Pack(pa, lda, transA, m, k, packed.Pointer, EngineOptions.Threads, order);
        // The workers write the storage through a raw pointer. Inlined into a caller that drops the result, nothing
        // else would keep it alive while they do: a collection then freed it under them (an access violation).
        GC.KeepAlive(packed);
        return packed;
    }
}

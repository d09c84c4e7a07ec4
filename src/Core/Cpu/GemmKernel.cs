namespace DeformEngine.Cpu;

/// <summary>A register-blocked micro-kernel: multiplies one packed A micro-panel (Rows × kc) by
/// one packed B micro-panel (kc × Columns) and updates a Rows × Columns tile of C.</summary>
/// <remarks>Implemented by structs so that the driver, generic over the kernel, is specialised
/// and the kernel call is direct.</remarks>
internal unsafe interface IGemmKernel<T> where T : unmanaged
{
    /// <summary>MR: rows of the C tile, one broadcast of A each per k step.</summary>
    static abstract int Rows { get; }

    /// <summary>NR: columns of the C tile, a whole number of vectors.</summary>
    static abstract int Columns { get; }

    /// <summary>Lanes of one vector: the last panel of a row of C is packed only as wide as the
    /// vectors it needs (see <see cref="MultiplyNarrow"/>).</summary>
    static abstract int VectorLanes { get; }

    /// <summary>Packed A holds, per k step, <see cref="Rows"/> consecutive values; packed B holds
    /// <see cref="Columns"/>. The tile update is c = alpha·acc when <paramref name="overwrite"/>,
    /// otherwise c = fma(acc, alpha, beta·c), so C is not read when overwriting. After every eight k steps
    /// the kernel issues <paramref name="perEightSteps"/> of <paramref name="next"/>'s prefetches, so that
    /// they overlap the FMAs (issued in a burst between kernel calls they stalled it about as much as they
    /// saved the packing). B comes through <paramref name="b"/>: a packed panel, or (<see cref="GemmPackingPanel{T}"/>)
    /// op(B) as stored, packed as the kernel reads it; either way the kernel computes the same sums.</summary>
    static abstract void Multiply<TPanel>(int kc, T* packedA, TPanel b, T* c, int ldc, T alpha, T beta, bool overwrite,
        ref GemmPrefetch next, int perEightSteps)
        where TPanel : struct, IGemmPanelB<T>;

    /// <summary>The widest last partial panel of a row of C that <see cref="GemmMacroKernel"/> computes with C's rows in
    /// the lanes (<see cref="MultiplyColumnTail"/>) rather than through <see cref="MultiplyNarrow"/>; 0 for none.</summary>
    static abstract int ColumnTailWidth { get; }

    /// <summary><see cref="GemmColumnTail.Multiply{T, TL}"/> over this kernel's packed A panels, for a partial panel of at most
    /// <see cref="ColumnTailWidth"/> columns; <see cref="GemmColumnTail.Panels"/> panels at most.</summary>
    static abstract void MultiplyColumnTail(int columns, int rows, int kc, T* packedA, T* packedB, int bStep, T* c, int ldc,
        T alpha, T beta, bool overwrite);

    /// <summary><see cref="Multiply"/> for a tile of <paramref name="vectors"/> vectors, fewer than
    /// a full one; packed B then holds vectors·VectorLanes values per k step.</summary>
    static abstract void MultiplyNarrow(int vectors, int kc, T* packedA, T* packedB, T* c, int ldc, T alpha, T beta, bool overwrite);

    /// <summary><see cref="Multiply"/> for the first four rows of a panel only (packed A still holds
    /// <see cref="Rows"/> values per k step), straight into C: a last row panel of four or more rows (m = 64 or
    /// 256 against the AVX2 kernel's 6 rows) otherwise ran the full kernel into a scratch tile. Each element
    /// gets the same sums in the same order as from <see cref="Multiply"/>.</summary>
    static abstract void MultiplyFourRows(int kc, T* packedA, T* packedB, T* c, int ldc, T alpha, T beta, bool overwrite);
}

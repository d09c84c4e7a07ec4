namespace DeformEngine.Cpu;

/// <summary>Argument checks shared by the fast and the reference GEMM, run before any memory
/// is touched.</summary>
internal static class GemmArguments
{
    public static void Validate(bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        // Stored shapes: A is m×k, or k×m when transposed; B is k×n, or n×k when transposed.
        CheckMatrix("a", "lda", transA ? k : m, transA ? m : k, aLength, lda);
        CheckMatrix("b", "ldb", transB ? n : k, transB ? k : n, bLength, ldb);
        CheckMatrix("c", "ldc", m, n, cLength, ldc);
    }

    /// <summary>The checks of A alone, for packing it ahead of the products that use it.</summary>
    public static void ValidateA(bool transA, int m, int k, int aLength, int lda)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckMatrix("a", "lda", transA ? k : m, transA ? m : k, aLength, lda);
    }

    private static void CheckMatrix(string name, string strideName, int rows, int columns, int length, int stride)
    {
        // BLAS convention: the stride is at least 1 even for an empty matrix.
        int minStride = Math.Max(1, columns);
        if (stride < minStride)
            throw new ArgumentOutOfRangeException(strideName, stride,
                $"{strideName} must be at least {minStride} (the row length of the stored {rows}×{columns} matrix {name}), but was {stride}.");
        long required = rows == 0 || columns == 0 ? 0 : (long)(rows - 1) * stride + columns;
        if (length < required)
            throw new ArgumentException(
                $"{name} must hold at least {required} elements for a stored {rows}×{columns} matrix with {strideName} = {stride}, but holds {length}.",
                name);
    }
}

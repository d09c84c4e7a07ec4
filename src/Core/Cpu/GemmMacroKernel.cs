using System.Runtime.CompilerServices;
using System.Numerics;

namespace DeformEngine.Cpu;

/// <summary>Sweeps the micro-kernel over a packed A block and a run of packed B panels. The B
/// panel loop is outside so that one kc×Columns B panel stays in L1 while the A panels stream
/// from L2.</summary>
internal static unsafe class GemmMacroKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TKernel>(int rows, int columns, int kc, T* packedA, T* packedB,
        T* c, int ldc, T alpha, T beta, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IGemmKernel<T>
    {
        int mr = TKernel.Rows, nr = TKernel.Columns;
        T* tile = stackalloc T[mr * nr];
        for (int jr = 0; jr < columns; jr += nr)
        {
            int width = Math.Min(nr, columns - jr);
            T* b = packedB + (long)jr * kc;
            for (int ir = 0; ir < rows; ir += mr)
            {
                int height = Math.Min(mr, rows - ir);
                T* a = packedA + (long)ir * kc;
                T* cTile = c + (long)ir * ldc + jr;
                if (height == mr && width == nr)
                {
                    TKernel.Multiply(kc, a, b, cTile, ldc, alpha, beta, overwrite);
                    continue;
                }
                // Edge tile: the kernel writes the bare sums (alpha = 1 is exact) to a scratch tile
                // and only the valid part reaches C, updated exactly as GemmSimd.Update does.
                TKernel.Multiply(kc, a, b, tile, nr, T.One, T.Zero, overwrite: true);
                for (int ii = 0; ii < height; ii++)
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
    }
}

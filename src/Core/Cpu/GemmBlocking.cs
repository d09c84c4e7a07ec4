namespace DeformEngine.Cpu;

/// <summary>Cache blocking of the Goto/BLIS loops: kc is the depth of one rank-kc update, mc the
/// rows of a packed A block, nc the columns of a packed B block.</summary>
/// <remarks>Sized for the cache levels: a kc×Columns B micro-panel fills about half of L1 (the
/// other half streams A), an mc×kc A block about half of a core's L2, a kc×nc B block a few MB of
/// the shared L3. kc depends only on k, never on the thread count, which keeps the reduction
/// order of every element of C fixed.</remarks>
internal readonly record struct GemmBlocking(int Kc, int Mc, int Nc)
{
    private const int L1Budget = 16 << 10;
    private const int L2Budget = 256 << 10;
    private const int L3Budget = 4 << 20;

    public static unsafe GemmBlocking For<T, TKernel>()
        where T : unmanaged
        where TKernel : struct, IGemmKernel<T>
    {
        int kc = L1Budget / (TKernel.Columns * sizeof(T));
        int mc = L2Budget / (kc * sizeof(T)) / TKernel.Rows * TKernel.Rows;
        int nc = L3Budget / (kc * sizeof(T)) / TKernel.Columns * TKernel.Columns;
        return new GemmBlocking(kc, mc, nc);
    }

    /// <summary>Depth of each rank-kc step for a given k: the steps are made equal so that a k
    /// just above kc does not leave a short, inefficient last step.</summary>
    public int DepthStep(int k)
    {
        int steps = (k + Kc - 1) / Kc;
        return (k + steps - 1) / steps;
    }
}

namespace DeformEngine.Cpu;

/// <summary>Cache blocking of the GEMM loops: <see cref="Kc"/> is the depth of one rank-kc update,
/// <see cref="SliceColumns"/> the columns of op(B) a task packs for one depth step.</summary>
/// <remarks>The loop order (see <see cref="GemmJob{T, TKernel}"/>) keeps one packed A micro-panel
/// (Rows × kc) in L1 while the task's packed B slice (kc × SliceColumns) streams through it from
/// L2. So kc is sized from L1: a third of it for the A panel (on a 48 KiB L1, kc = 512 for the
/// 8-row float kernel, 256 for double), the rest for the B and C lines passing through. A deep kc
/// matters: C is read and written once per depth step. The slice takes half of L2, so that it stays
/// there while A panels and C tiles pass. kc depends only on k and the machine's cache sizes, never
/// on the thread count, which keeps the reduction order of every element of C fixed.</remarks>
internal readonly record struct GemmBlocking(int Kc, int SliceColumns)
{
    private const int MinKc = 128, MaxKc = 512;

    /// <summary>Bytes of packed op(A) shared by the tasks of one group of depth steps: several
    /// steps of a large product, within a server L3.</summary>
    public const long SharedBudget = 8L << 20;

    public static unsafe GemmBlocking For<T, TKernel>()
        where T : unmanaged
        where TKernel : struct, IGemmKernel<T> =>
        For<T, TKernel>(CacheSizes.L1Data, CacheSizes.L2);

    public static unsafe GemmBlocking For<T, TKernel>(int l1Bytes, int l2Bytes)
        where T : unmanaged
        where TKernel : struct, IGemmKernel<T>
    {
        int kc = Math.Clamp(l1Bytes / 3 / (TKernel.Rows * sizeof(T)) / 16 * 16, MinKc, MaxKc);
        int slice = Math.Max(1, l2Bytes / 2 / (kc * sizeof(T)) / TKernel.Columns) * TKernel.Columns;
        return new GemmBlocking(kc, slice);
    }

    /// <summary>Depth of each rank-kc step for a given k: the steps are made equal so that a k
    /// just above kc does not leave a short, inefficient last step.</summary>
    public int DepthStep(int k)
    {
        int steps = (k + Kc - 1) / Kc;
        return (k + steps - 1) / steps;
    }
}

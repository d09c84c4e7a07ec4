using System.Numerics;

namespace DeformEngine.Cpu;

/// <summary>One GEMM call as the Goto/BLIS loop nest. For each nc-column block of C and each
/// group of kc-deep steps, the workers pack the group's block of op(B), then take blocks of C
/// rows; a row task runs the group's steps in order, packing its own A block per step into its
/// L2.</summary>
/// <remarks>
/// Determinism: an element of C is always computed by the same kernel lanes over the same kc
/// steps in the same order; the partition into tasks only decides who computes it. So the result
/// is bitwise the same for any thread count.
/// <para>Each group is one fork/join. Waking a sleeping thread-pool worker costs from 0.1 to
/// nearly 1 ms on a virtual machine, so steps are grouped, and within a group the workers claim
/// pack parts and row tasks from shared counters instead of meeting at a second fork/join.</para>
/// </remarks>
internal sealed unsafe class GemmJob<T, TKernel>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TKernel : struct, IGemmKernel<T>
{
    /// <summary>Bytes of op(B) packed per group of depth steps: several steps of a large product,
    /// still well inside a server L3, and the bound of the B workspace.</summary>
    private const long PackedBBudget = 8L << 20;

    private readonly GemmProblem _problem;
    private readonly T* _a, _b, _c;
    private readonly T _alpha, _beta;
    private readonly int _threads;
    private readonly GemmBlocking _blocking = GemmBlocking.For<T, TKernel>();
    private readonly int _depthStep, _steps;
    private readonly int _rowPanels, _rowTasks, _maxTaskRows;
    private Action<int>? _worker;

    // The current column block and group of steps: written before the workers start.
    private int _jc, _columns, _firstStep, _groupSteps;
    private int _panelChunks, _panelsPerChunk, _columnTasks, _panelsPerColumnTask;
    private long _stepStride;
    private T* _packedB;

    // Claim and completion counters of the current group.
    private int _packParts, _packClaimed, _packDone, _computeTasks, _computeClaimed;

    public GemmJob(in GemmProblem problem, T* a, T* b, T* c, T alpha, T beta, int threads)
    {
        _problem = problem;
        _a = a;
        _b = b;
        _c = c;
        _alpha = alpha;
        _beta = beta;
        _threads = threads;
        _depthStep = _blocking.DepthStep(problem.K);
        _steps = CeilDiv(problem.K, _depthStep);
        // As many row tasks as L2 requires (one A block each), rounded up to a multiple of the
        // thread count, with the micro-panels dealt out evenly so that the threads finish together.
        _rowPanels = CeilDiv(problem.M, TKernel.Rows);
        _rowTasks = CeilDiv(problem.M, _blocking.Mc);
        if (threads > 1)
            _rowTasks = Math.Min(CeilDiv(_rowTasks, threads) * threads, _rowPanels);
        _maxTaskRows = CeilDiv(_rowPanels, _rowTasks) * TKernel.Rows;
    }

    public void Execute()
    {
        int nr = TKernel.Columns;
        for (int jc = 0; jc < _problem.N; jc += _blocking.Nc)
        {
            _jc = jc;
            _columns = Math.Min(_blocking.Nc, _problem.N - jc);
            int panels = CeilDiv(_columns, nr);
            _panelChunks = Math.Min(_threads, panels);
            _panelsPerChunk = CeilDiv(panels, _panelChunks);
            // Too few row blocks to occupy every thread (small m): split the columns as well.
            _columnTasks = _rowTasks < _threads ? Math.Min(_threads, panels) : 1;
            _panelsPerColumnTask = CeilDiv(panels, _columnTasks);
            _stepStride = (long)panels * nr * _depthStep;
            int stepsPerGroup = (int)Math.Clamp(PackedBBudget / (_stepStride * sizeof(T)), 1, _steps);
            _packedB = GemmBuffers<T>.PackedB((int)(stepsPerGroup * _stepStride));
            for (int step = 0; step < _steps; step += stepsPerGroup)
            {
                _firstStep = step;
                _groupSteps = Math.Min(stepsPerGroup, _steps - step);
                RunGroup();
            }
        }
    }

    private void RunGroup()
    {
        _packParts = _groupSteps * _panelChunks;
        _computeTasks = _rowTasks * _columnTasks;
        _packClaimed = _packDone = _computeClaimed = 0;
        if (_threads == 1)
            Work(0);
        else
            Parallel.For(0, _threads, EngineOptions.ParallelOptions, _worker ??= Work);
    }

    /// <summary>One worker's share of a group: pack parts of B while any are unclaimed, wait
    /// until all are packed, then compute row tasks while any are unclaimed.</summary>
    /// <remarks>A worker only ever waits for parts another worker has claimed and is packing, so a
    /// group finishes even when Parallel.For runs its workers one after another.</remarks>
    private void Work(int worker)
    {
        // Allocated before claiming anything, so that a failure here strands no claimed part.
        T* packedA = GemmBuffers<T>.PackedA(_maxTaskRows * _depthStep);
        int part;
        while ((part = Interlocked.Increment(ref _packClaimed) - 1) < _packParts)
        {
            PackBPart(part);
            Interlocked.Increment(ref _packDone);
        }
        var spinner = new SpinWait();
        while (Volatile.Read(ref _packDone) < _packParts)
            spinner.SpinOnce(sleep1Threshold: -1);
        int task;
        while ((task = Interlocked.Increment(ref _computeClaimed) - 1) < _computeTasks)
            ComputeTask(task, packedA);
    }

    private void PackBPart(int part)
    {
        int nr = TKernel.Columns;
        int step = part / _panelChunks;
        int j0 = part % _panelChunks * _panelsPerChunk * nr;
        int columns = Math.Min(_columns, j0 + _panelsPerChunk * nr) - j0;
        if (columns <= 0)
            return;
        (int pc, int kc) = Depth(_firstStep + step);
        GemmPacking.PackB(_b, _problem.Ldb, _problem.TransB, pc, kc, _jc + j0, columns, nr,
            _packedB + step * _stepStride + (long)j0 * kc);
    }

    private void ComputeTask(int task, T* packedA)
    {
        int mr = TKernel.Rows, nr = TKernel.Columns;
        int rowTask = task / _columnTasks;
        int i0 = (int)((long)rowTask * _rowPanels / _rowTasks) * mr;
        int rows = Math.Min(_problem.M, (int)((long)(rowTask + 1) * _rowPanels / _rowTasks) * mr) - i0;
        int j0 = task % _columnTasks * _panelsPerColumnTask * nr;
        int columns = Math.Min(_columns, j0 + _panelsPerColumnTask * nr) - j0;
        if (columns <= 0)
            return;

        T* c = _c + (long)i0 * _problem.Ldc + _jc + j0;
        for (int step = 0; step < _groupSteps; step++)
        {
            (int pc, int kc) = Depth(_firstStep + step);
            GemmPacking.PackA(_a, _problem.Lda, _problem.TransA, i0, rows, pc, kc, mr, packedA);
            // The first depth step applies beta (and must not read C when beta = 0); later steps add.
            bool first = pc == 0;
            GemmMacroKernel.Run<T, TKernel>(rows, columns, kc, packedA, _packedB + step * _stepStride + (long)j0 * kc,
                c, _problem.Ldc, _alpha, first ? _beta : T.One, overwrite: first && _beta == T.Zero);
        }
    }

    /// <summary>Start and depth of one step along k.</summary>
    private (int Start, int Depth) Depth(int step)
    {
        int start = step * _depthStep;
        return (start, Math.Min(_depthStep, _problem.K - start));
    }

    private static int CeilDiv(int x, int y) => (x + y - 1) / y;
}

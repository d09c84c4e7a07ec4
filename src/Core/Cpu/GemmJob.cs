using System.Numerics;

namespace DeformEngine.Cpu;

/// <summary>One GEMM call as the Goto/BLIS loop nest. Row mode: for each nc-column block of C and
/// each group of kc-deep steps, the workers pack the group's block of op(B), then take blocks of C
/// rows; a row task runs the group's steps in order, packing its own A block per step into its
/// L2. Column mode (few rows, many columns: the operator's forward and weight-gradient products):
/// the roles swap, the group's op(A) is packed once and shared, and column tasks pack their own
/// slice of op(B) per step.</summary>
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

    /// <summary>Products with at most this many rows of C (and at least twice as many columns) run
    /// in column mode: the whole of op(A) is packed once per group and shared, and each task packs
    /// its own narrow slice of op(B) into its L2 and computes every row against it. With few rows the
    /// row mode's shared B block (written to L3 or memory, read back by every row task) costs as
    /// much memory traffic as the product has arithmetic; the slice never leaves the core.</summary>
    private const int ThinRows = 512;

    /// <summary>Columns of C per column-mode task at most: a kc×128 B slice (128 KiB) sits in L2
    /// next to an A step of up to 256 rows (256 KiB); at 512 rows (shape 3's weight gradient, whose
    /// depth steps are 196 deep: 400 KiB) the A step spills partly to L3 and column mode still
    /// measured ~3–8 ms faster than row mode over six interleaved runs.</summary>
    private const int ColumnTaskWidth = 128;

    private readonly GemmProblem _problem;
    private readonly T* _a, _b, _c;
    private readonly T _alpha, _beta;
    private readonly int _threads;
    private readonly GemmBlocking _blocking = GemmBlocking.For<T, TKernel>();
    private readonly int _depthStep, _steps;
    private readonly int _rowPanels, _rowTasks, _maxTaskRows;
    private readonly bool _columnMode;
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
        _columnMode = problem.M <= ThinRows && problem.N >= 2 * problem.M;
    }

    public void Execute()
    {
        if (_columnMode)
        {
            ExecuteColumnMode();
            return;
        }
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
            RunGroups((long)panels * nr * _depthStep);
        }
    }

    /// <summary>Column mode: per group of steps, the workers pack all of op(A) for those steps in
    /// parts (row panel chunks), then claim column tasks; a task runs the group's steps in order,
    /// packing its slice of op(B) per step.</summary>
    private void ExecuteColumnMode()
    {
        int nr = TKernel.Columns, mr = TKernel.Rows;
        _jc = 0;
        _columns = _problem.N;
        int panels = CeilDiv(_problem.N, nr);
        int tasks = CeilDiv(panels, ColumnTaskWidth / nr);
        if (_threads > 1)
            tasks = Math.Min(CeilDiv(tasks, _threads) * _threads, panels);
        _columnTasks = tasks;
        _panelsPerColumnTask = CeilDiv(panels, tasks);
        _panelChunks = Math.Min(_threads, _rowPanels);
        _panelsPerChunk = CeilDiv(_rowPanels, _panelChunks);
        // The shared packed A lives in the calling thread's B buffer; tasks pack B slices into
        // their thread's A buffer.
        RunGroups((long)_rowPanels * mr * _depthStep);
    }

    /// <summary>Runs every depth step, as many per group as fit <see cref="PackedBBudget"/> when each
    /// step's shared packed operand takes <paramref name="stepStride"/> elements.</summary>
    private void RunGroups(long stepStride)
    {
        _stepStride = stepStride;
        int stepsPerGroup = (int)Math.Clamp(PackedBBudget / (_stepStride * sizeof(T)), 1, _steps);
        _packedB = GemmBuffers<T>.PackedB((int)(stepsPerGroup * _stepStride));
        for (int step = 0; step < _steps; step += stepsPerGroup)
        {
            _firstStep = step;
            _groupSteps = Math.Min(stepsPerGroup, _steps - step);
            RunGroup();
        }
    }

    private void RunGroup()
    {
        _packParts = _groupSteps * _panelChunks;
        _computeTasks = _columnMode ? _columnTasks : _rowTasks * _columnTasks;
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
        T* packedA = _columnMode
            ? GemmBuffers<T>.PackedA(_panelsPerColumnTask * TKernel.Columns * _depthStep)
            : GemmBuffers<T>.PackedA(_maxTaskRows * _depthStep);
        int part;
        while ((part = Interlocked.Increment(ref _packClaimed) - 1) < _packParts)
        {
            if (_columnMode)
                PackAPart(part);
            else
                PackBPart(part);
            Interlocked.Increment(ref _packDone);
        }
        var spinner = new SpinWait();
        while (Volatile.Read(ref _packDone) < _packParts)
            spinner.SpinOnce(sleep1Threshold: -1);
        int task;
        while ((task = Interlocked.Increment(ref _computeClaimed) - 1) < _computeTasks)
        {
            if (_columnMode)
                ComputeColumnTask(task, packedA);
            else
                ComputeTask(task, packedA);
        }
    }

    /// <summary>Column mode: one step's chunk of row panels of op(A) into the shared buffer.</summary>
    private void PackAPart(int part)
    {
        int mr = TKernel.Rows;
        int step = part / _panelChunks;
        int i0 = part % _panelChunks * _panelsPerChunk * mr;
        int rows = Math.Min(_problem.M, i0 + _panelsPerChunk * mr) - i0;
        if (rows <= 0)
            return;
        (int pc, int kc) = Depth(_firstStep + step);
        GemmPacking.PackA(_a, _problem.Lda, _problem.TransA, i0, rows, pc, kc, mr,
            _packedB + step * _stepStride + (long)i0 * kc);
    }

    /// <summary>Column mode: all rows of C against one slice of columns, over the group's steps.</summary>
    private void ComputeColumnTask(int task, T* packedB)
    {
        int nr = TKernel.Columns;
        int j0 = task * _panelsPerColumnTask * nr;
        int columns = Math.Min(_problem.N, j0 + _panelsPerColumnTask * nr) - j0;
        if (columns <= 0)
            return;
        T* c = _c + j0;
        for (int step = 0; step < _groupSteps; step++)
        {
            (int pc, int kc) = Depth(_firstStep + step);
            GemmPacking.PackB(_b, _problem.Ldb, _problem.TransB, pc, kc, j0, columns, nr, packedB);
            bool first = pc == 0;
            GemmMacroKernel.Run<T, TKernel>(_problem.M, columns, kc, _packedB + step * _stepStride, packedB,
                c, _problem.Ldc, _alpha, first ? _beta : T.One, overwrite: first && _beta == T.Zero);
        }
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

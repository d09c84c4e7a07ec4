using System.Numerics;

namespace DeformEngine.Cpu;

/// <summary>One GEMM call as the Goto/BLIS loop nest: for each nc-column block of C and each
/// kc-deep step, pack the kc×nc block of op(B) once (split among threads), then let the threads
/// take blocks of C rows, each packing its own A block into its L2.</summary>
/// <remarks>Determinism: an element of C is always computed by the same kernel lanes over the
/// same kc steps in the same order; the partition into tasks only decides who computes it. So
/// the result is bitwise the same for any thread count.</remarks>
internal sealed unsafe class GemmJob<T, TKernel>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TKernel : struct, IGemmKernel<T>
{
    private readonly GemmProblem _problem;
    private readonly T* _a, _b, _c;
    private readonly T _alpha, _beta;
    private readonly int _threads;
    private readonly GemmBlocking _blocking = GemmBlocking.For<T, TKernel>();
    private readonly int _depthStep;
    private readonly int _rowPanels, _rowTasks, _maxTaskRows;
    private Action<int>? _packBPart, _computeTask;

    // The current (column block, depth step); written before each parallel loop, read inside it.
    private int _jc, _columns, _panels, _pc, _kc;
    private int _panelsPerPart, _columnTasks, _panelsPerColumnTask;
    private T* _packedB;

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
        // As many row tasks as L2 requires (one A block each), rounded up to a multiple of the
        // thread count, with the micro-panels dealt out evenly so that the threads finish each
        // step together.
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
            _panels = CeilDiv(_columns, nr);
            _panelsPerPart = CeilDiv(_panels, Math.Min(_threads, _panels));
            // Too few row blocks to occupy every thread (small m): split the columns as well.
            _columnTasks = _rowTasks < _threads ? Math.Min(_threads, _panels) : 1;
            _panelsPerColumnTask = CeilDiv(_panels, _columnTasks);
            _packedB = GemmBuffers<T>.PackedB(_panels * nr * _depthStep);
            for (int pc = 0; pc < _problem.K; pc += _depthStep)
            {
                _pc = pc;
                _kc = Math.Min(_depthStep, _problem.K - pc);
                RunStep(CeilDiv(_panels, _panelsPerPart), _rowTasks * _columnTasks);
            }
        }
    }

    /// <summary>Packs B, then computes; the second loop starts only when all of B is packed.
    /// One thread calls the parts directly, so small products allocate no delegates.</summary>
    private void RunStep(int packParts, int computeTasks)
    {
        if (_threads == 1)
        {
            for (int part = 0; part < packParts; part++)
                PackBPart(part);
            for (int task = 0; task < computeTasks; task++)
                ComputeTask(task);
            return;
        }
        ParallelOptions options = EngineOptions.ParallelOptions;
        Parallel.For(0, packParts, options, _packBPart ??= PackBPart);
        Parallel.For(0, computeTasks, options, _computeTask ??= ComputeTask);
    }

    private void PackBPart(int part)
    {
        int nr = TKernel.Columns;
        int firstPanel = part * _panelsPerPart;
        int j0 = firstPanel * nr;
        int columns = Math.Min(_columns, (firstPanel + _panelsPerPart) * nr) - j0;
        GemmPacking.PackB(_b, _problem.Ldb, _problem.TransB, _pc, _kc, _jc + j0, columns, nr,
            _packedB + (long)j0 * _kc);
    }

    private void ComputeTask(int task)
    {
        int mr = TKernel.Rows, nr = TKernel.Columns;
        int rowTask = task / _columnTasks;
        int i0 = (int)((long)rowTask * _rowPanels / _rowTasks) * mr;
        int rows = Math.Min(_problem.M, (int)((long)(rowTask + 1) * _rowPanels / _rowTasks) * mr) - i0;
        int firstPanel = task % _columnTasks * _panelsPerColumnTask;
        int j0 = firstPanel * nr;
        int columns = Math.Min(_columns, (firstPanel + _panelsPerColumnTask) * nr) - j0;
        if (columns <= 0)
            return;

        T* packedA = GemmBuffers<T>.PackedA(_maxTaskRows * _depthStep);
        GemmPacking.PackA(_a, _problem.Lda, _problem.TransA, i0, rows, _pc, _kc, mr, packedA);
        // The first depth step applies beta (and must not read C when beta = 0); later steps add.
        bool firstStep = _pc == 0;
        GemmMacroKernel.Run<T, TKernel>(rows, columns, _kc, packedA, _packedB + (long)j0 * _kc,
            _c + (long)i0 * _problem.Ldc + _jc + j0, _problem.Ldc,
            _alpha, firstStep ? _beta : T.One, overwrite: firstStep && _beta == T.Zero);
    }

    private static int CeilDiv(int x, int y) => (x + y - 1) / y;
}

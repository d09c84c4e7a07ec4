using System.Numerics;

namespace DeformEngine.Cpu;

/// <summary>One GEMM call as a Goto/BLIS loop nest, row-major. For each block of C's rows and each
/// group of kc-deep steps, the workers claim tasks; a task is a slice of C's columns (and, when there
/// are too few slices for the threads, a part of the rows) and runs the group's steps in order: pack
/// its kc × slice block of op(B) into its own buffer (it stays in that core's L2), then for every A
/// micro-panel (held in L1) sweep the slice's B micro-panels. The group's op(A) panels go to a buffer
/// all tasks read: on several threads each panel is packed by the first task to reach it (tasks that
/// run at the same time start their sweeps at different panels), on one thread all of them before
/// the tasks.</summary>
/// <remarks>
/// Determinism: an element of C is always computed by the same kernel lanes over the same kc
/// steps in the same order; the partition into tasks only decides who computes it. So the result
/// is bitwise the same for any thread count.
/// <para>Each group is one fork/join. Waking a sleeping thread-pool worker costs from 0.1 to
/// nearly 1 ms on a virtual machine, so steps are grouped, and within a group the workers claim
/// pack parts and tasks from shared counters instead of meeting at a second fork/join.</para>
/// </remarks>
internal sealed unsafe class GemmJob<T, TKernel>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TKernel : struct, IGemmKernel<T>
{
    private readonly GemmProblem _problem;
    private readonly T* _a, _b, _c;
    private readonly T _alpha, _beta;
    private readonly int _threads;
    private readonly GemmBlocking _blocking = GemmBlocking.For<T, TKernel>();
    private readonly int _depthStep, _steps;
    /// <summary>Row panels of op(A) in all, and at most per row block (the shared buffer's bound).</summary>
    private readonly int _rowPanels, _blockPanels;
    /// <summary>Column slices, B panels per slice, and row parts per block (1 unless the slices are
    /// too few to occupy the threads).</summary>
    private readonly int _slices, _panelsPerSlice, _rowParts;
    /// <summary>Row parts of the last slice (1: not split; see GemmPartition.SplitsLastSlice).</summary>
    private readonly int _tailParts = 1;
    /// <summary>Columns of a last partial panel shared out by rows among the slices' tasks (0: none; see
    /// GemmPartition.SharesNarrowTail).</summary>
    private readonly int _tailColumns;
    private readonly int _packChunks;
    private readonly long _stepStride;
    private readonly T* _prepackedA;
    private Action? _work;

    /// <summary>Whether the tasks pack op(A)'s panels as they first reach them (several threads; see the constructor),
    /// and the state of each panel of the current group (step by step, <see cref="GemmPanelsA{T}"/>).</summary>
    private readonly bool _packOnTouch;
    private int* _panelState;

    // The current row block and group of steps: written before the workers start.
    private int _firstPanel, _panels, _firstStep, _groupSteps, _panelsPerChunk, _panelsPerPart;
    private T* _packedA;

    // Claim and completion counters of the current group.
    private int _packParts, _packClaimed, _packDone, _tasks, _taskClaimed;

    /// <summary>A job over op(A) as stored (<paramref name="prepackedA"/> null) or over an op(A) packed
    /// beforehand by <see cref="Pack"/> (<paramref name="a"/> unused).</summary>
    public GemmJob(in GemmProblem problem, T* a, T* b, T* c, T alpha, T beta, int threads, T* prepackedA = null)
    {
        _problem = problem;
        _a = a;
        _b = b;
        _c = c;
        _alpha = alpha;
        _beta = beta;
        _prepackedA = prepackedA;
        int mr = TKernel.Rows, nr = TKernel.Columns;
        _depthStep = _blocking.DepthStep(problem.K);
        _steps = CeilDiv(problem.K, _depthStep);
        _rowPanels = CeilDiv(problem.M, mr);
        // Prepacked, op(A) is one block of every row panel and every step, in the layout of Pack.
        _stepStride = (long)(prepackedA != null ? _rowPanels : Math.Min(_rowPanels, MaxBlockPanels(_depthStep))) * mr * _depthStep;
        _blockPanels = (int)(_stepStride / ((long)mr * _depthStep));

        // Slices no wider than L2 allows, cut so that the threads finish together (GemmPartition).
        int columnPanels = CeilDiv(problem.N, nr);
        _panelsPerSlice = GemmPartition.PanelsPerTask(problem.N, nr, _blocking.SliceColumns / nr, threads, _blockPanels * mr);
        _slices = CeilDiv(columnPanels, _panelsPerSlice);
        // A last partial panel that the full slices share by rows is not a task of its own.
        if (GemmPartition.SharesNarrowTail(problem.N, nr, _panelsPerSlice, threads))
        {
            _slices--;
            _tailColumns = problem.N - _slices * _panelsPerSlice * nr;
        }
        // Too few slices for the threads (narrow C): split each row block as well.
        _rowParts = _slices < threads ? Math.Min(CeilDiv(threads, _slices), _blockPanels) : 1;
        _threads = Math.Min(threads, _slices * _rowParts);
        // A last slice that one thread would run while the others wait has its rows split over the threads instead
        // (GemmPartition.SplitsLastSlice).
        if (_rowParts == 1 && GemmPartition.SplitsLastSlice(problem.N, nr, _panelsPerSlice, threads))
            _tailParts = Math.Min(threads, _blockPanels);
        _packChunks = prepackedA != null ? 0 : Math.Min(_threads, _blockPanels);
        // Several threads pack op(A) panel by panel as their tasks first reach them, instead of all of it before the tasks:
        // a packed panel is then read at once from L1 by the task that packed it, and no thread waits at the end of a
        // packing phase. Two threads, each call from idle, in one process, ms at the 0th / 10th / 50th percentile of
        // 80 calls: N2 C512's forward product (512 × 392 × 4608) 8.59 / 9.63 / 10.35 -> 7.77 / 8.54 / 10.00 (AVX-512),
        // 13.09 / 13.80 / 17.55 -> 12.95 / 13.43 / 16.67 (AVX2); 1024³ AVX2 14.78 / 15.82 / 18.90 -> 14.06 / 15.68 / 18.54.
        // One thread keeps the packing phase: its groups are sized to stay in L2, and it has no one to wait for.
        _packOnTouch = prepackedA == null && _threads > 1;
    }

    /// <summary>Elements <see cref="Pack"/> writes for an m×k op(A).</summary>
    public static long PackedLength(int m, int k)
    {
        int depthStep = GemmBlocking.For<T, TKernel>().DepthStep(k);
        return (long)CeilDiv(k, depthStep) * CeilDiv(m, TKernel.Rows) * TKernel.Rows * depthStep;
    }

    /// <summary>Packs the whole of op(A) (m×k) once, in the layout a job with a prepacked A reads
    /// (with <paramref name="columnOrder"/>, op(A)[i, p] = A[i, columnOrder[p]] of a non-transposed A):
    /// step s, row panel r at s·(row panels·Rows·depth step) + r·Rows·kc_s. The steps are packed in
    /// parallel; the result does not depend on the thread count.</summary>
    public static void Pack(T* a, int lda, bool transA, int m, int k, T* packed, int threads, int* columnOrder = null)
    {
        int mr = TKernel.Rows;
        int depthStep = GemmBlocking.For<T, TKernel>().DepthStep(k);
        int steps = CeilDiv(k, depthStep);
        long stepStride = (long)CeilDiv(m, mr) * mr * depthStep;
        if (columnOrder != null)
        {
            // A re-ordered A gathers each depth step's columns from all along its rows (a DeformConv2d weight's step
            // holds one or two of its kernel points, each row's every ninth value): taken step by step, every step
            // swept all of A again. Panel by panel, a panel's rows come from memory once and stay in cache for all the
            // steps (the 9.4 MB weight of C512 3×3, fastest of 15: one thread 2.1 ms instead of 3.5–3.8, two 1.0–1.1
            // instead of 1.4–1.5).
            void PackPanel(int panel)
            {
                int i0 = panel * mr, rows = Math.Min(mr, m - i0);
                for (int step = 0, pc = 0; step < steps; step++, pc += depthStep)
                {
                    int kc = Math.Min(depthStep, k - pc);
                    GemmPacking.PackAReordered(a, lda, columnOrder, i0, rows, pc, kc, mr, packed + step * stepStride + (long)i0 * kc);
                }
            }
            CpuWorkers.For(CeilDiv(m, mr), threads, PackPanel);
            return;
        }
        void PackStep(int step)
        {
            int pc = step * depthStep, kc = Math.Min(depthStep, k - pc);
            GemmPacking.PackA(a, lda, transA, 0, m, pc, kc, mr, packed + step * stepStride);
        }
        CpuWorkers.For(steps, threads, PackStep);
    }

    /// <summary>Row panels whose packed depth step fits the shared budget (at least one).</summary>
    private static int MaxBlockPanels(int depthStep) =>
        (int)Math.Max(1, GemmBlocking.SharedBudget / ((long)TKernel.Rows * depthStep * sizeof(T)));

    public void Execute()
    {
        // Prepacked: all steps in one group (one fork/join), nothing to pack. On one thread a group costs no
        // fork/join, and groups that fit half of L2 keep each packed step there from its packing to its use
        // instead of sending it to L3 and back (N2 C512's forward product +3 % in one process; the others unchanged).
        long groupBytes = _threads == 1 ? Math.Min(GemmBlocking.SharedBudget, CacheSizes.L2 / 2) : GemmBlocking.SharedBudget;
        int stepsPerGroup = _prepackedA != null
            ? _steps
            : (int)Math.Clamp(groupBytes / (_stepStride * sizeof(T)), 1, _steps);
        if (_prepackedA == null)
            _packedA = GemmBuffers<T>.Shared(checked((int)(stepsPerGroup * _stepStride)));
        if (_packOnTouch)
            _panelState = GemmBuffers<int>.Shared(stepsPerGroup * _blockPanels);
        for (int first = 0; first < _rowPanels; first += _blockPanels)
        {
            _firstPanel = first;
            _panels = Math.Min(_blockPanels, _rowPanels - first);
            _panelsPerChunk = _packChunks == 0 ? 0 : CeilDiv(_panels, _packChunks);
            _panelsPerPart = CeilDiv(_panels, _rowParts);
            for (int step = 0; step < _steps; step += stepsPerGroup)
            {
                _firstStep = step;
                _groupSteps = Math.Min(stepsPerGroup, _steps - step);
                if (_prepackedA != null)
                    _packedA = _prepackedA + step * _stepStride;
                RunGroup();
            }
        }
    }

    private void RunGroup()
    {
        _packParts = _packOnTouch ? 0 : _groupSteps * _packChunks;
        if (_packOnTouch)
            new Span<int>(_panelState, _groupSteps * _panels).Clear();
        _tasks = _tailParts > 1 ? _slices - 1 + _tailParts : _slices * _rowParts;
        _packClaimed = _packDone = _taskClaimed = 0;
        CpuWorkers.Run(_threads, _work ??= Work);
    }

    /// <summary>One worker's share of a group: pack parts of A while any are unclaimed (one thread), wait
    /// until all are packed, then run tasks while any are unclaimed.</summary>
    /// <remarks>A worker only ever waits for parts (or panels, <see cref="GemmPanelsA{T}"/>) another worker has
    /// claimed and is packing, so a group finishes even when only the calling thread takes part
    /// (<see cref="CpuWorkers"/>).</remarks>
    private void Work()
    {
        // Allocated before claiming anything, so that a failure here strands no claimed part.
        // A shared partial panel is packed after the slice's own panels (RunTask).
        T* slice = GemmBuffers<T>.Slice((_panelsPerSlice + (_tailColumns > 0 ? 1 : 0)) * TKernel.Columns * _depthStep);
        int part;
        while ((part = Interlocked.Increment(ref _packClaimed) - 1) < _packParts)
        {
            PackAPart(part);
            Interlocked.Increment(ref _packDone);
        }
        var spinner = new SpinWait();
        while (Volatile.Read(ref _packDone) < _packParts)
            spinner.SpinOnce(sleep1Threshold: -1);
        int task;
        while ((task = Interlocked.Increment(ref _taskClaimed) - 1) < _tasks)
            RunTask(task, slice);
    }

    /// <summary>One step's chunk of the row block's panels of op(A) into the shared buffer.</summary>
    private void PackAPart(int part)
    {
        int mr = TKernel.Rows;
        int step = part / _packChunks;
        int firstPanel = part % _packChunks * _panelsPerChunk;
        int panels = Math.Min(_panels - firstPanel, _panelsPerChunk);
        if (panels <= 0)
            return;
        int i0 = (_firstPanel + firstPanel) * mr;
        int rows = Math.Min(_problem.M - i0, panels * mr);
        (int pc, int kc) = Depth(_firstStep + step);
        GemmPacking.PackA(_a, _problem.Lda, _problem.TransA, i0, rows, pc, kc, mr,
            _packedA + step * _stepStride + (long)firstPanel * mr * kc);
    }

    /// <summary>A slice of columns against a part of the row block, over the group's steps.</summary>
    private void RunTask(int task, T* slice)
    {
        int mr = TKernel.Rows, nr = TKernel.Columns;
        int part = task / _slices, sliceIndex = task % _slices, panelsPerPart = _panelsPerPart;
        if (_tailParts > 1 && task >= _slices - 1)
        {
            // The narrow last slice, in row parts (see the constructor).
            sliceIndex = _slices - 1;
            part = task - sliceIndex;
            panelsPerPart = CeilDiv(_panels, _tailParts);
        }
        int j0 = sliceIndex * _panelsPerSlice * nr;
        int columns = Math.Min(_problem.N - j0, _panelsPerSlice * nr);
        int firstPanel = part * panelsPerPart;
        int panels = Math.Min(_panels - firstPanel, panelsPerPart);
        if (columns <= 0 || panels <= 0)
            return;
        int i0 = (_firstPanel + firstPanel) * mr;
        int rows = Math.Min(_problem.M - i0, panels * mr);
        T* c = _c + (long)i0 * _problem.Ldc + j0;
        // The shared partial panel: this slice's share of its rows, in whole row panels.
        int tailJ0 = _problem.N - _tailColumns, tailPanels = _tailColumns > 0 ? CeilDiv(panels, _slices) : 0;
        int tailFirstRow = sliceIndex * tailPanels * mr, tailEndRow = Math.Min(rows, tailFirstRow + tailPanels * mr);
        // A non-transposed op(B) is packed by the kernel calls of the first row panel as they read it (rows are
        // stored runs of the panels' steps), all but a last partial panel, which is packed here; see PacksAsRead.
        bool packAsRead = !_problem.TransB && rows >= mr && PacksAsRead;
        // Tasks that run at the same time start their sweeps at different row panels, so that with A packed on first
        // touch each packs its own share while the others pack theirs (always a full panel: see packAsRead).
        int rowPanels = CeilDiv(rows, mr), startPanel = task % _threads * rowPanels / _threads;
        if (startPanel >= rows / mr)
            startPanel = 0;
        int packedColumns = packAsRead ? columns / nr * nr : 0;
        for (int step = 0; step < _groupSteps; step++)
        {
            (int pc, int kc) = Depth(_firstStep + step);
            if (packedColumns < columns)
                GemmPacking.PackB(_b, _problem.Ldb, _problem.TransB, pc, kc, j0 + packedColumns, columns - packedColumns, nr,
                    TKernel.VectorLanes, slice + (long)packedColumns * kc);
            if (tailFirstRow < tailEndRow)
                GemmPacking.PackB(_b, _problem.Ldb, _problem.TransB, pc, kc, tailJ0, _tailColumns, nr, TKernel.VectorLanes,
                    slice + (long)columns * kc);
            // The first depth step applies beta (and must not read C when beta = 0); later steps add.
            bool first = pc == 0;
            T* packedA = _packedA + step * _stepStride + (long)firstPanel * mr * kc;
            var panelsA = _packOnTouch
                ? new GemmPanelsA<T>(packedA, _panelState + step * _panels + firstPanel, _a, _problem.Lda, _problem.TransA, i0, rows, pc)
                : new GemmPanelsA<T>(packedA);
            GemmMacroKernel.Run<T, TKernel>(rows, columns, kc, panelsA, startPanel, slice,
                c, _problem.Ldc, _alpha, first ? _beta : T.One, overwrite: first && _beta == T.Zero,
                step + 1 < _groupSteps ? SourceOfB(_firstStep + step + 1, j0, columns) : default,
                packAsRead ? _b + (long)pc * _problem.Ldb + j0 : null, _problem.Ldb,
                tailFirstRow < tailEndRow ? new GemmTail<T>(_tailColumns, _c + (long)i0 * _problem.Ldc + tailJ0, tailFirstRow, tailEndRow) : default);
        }
    }

    /// <summary>Whether the first row panel's kernel calls pack a non-transposed op(B) as they read it
    /// (<see cref="GemmPackingPanel{T}"/>) instead of a separate packing pass: where a k step of a panel spans
    /// several cache lines (the AVX-512 kernel's 192 bytes).</summary>
    /// <remarks>Such a call walks down the stored rows of B, a row apart per k step, so it fetches each step 32
    /// steps ahead (<see cref="GemmPackingPanel{T}.FetchAhead"/>). In one process, one thread, AVX-512: weight gradients +11 % at m = 64, +2–4 % at m = 256,
    /// 1024³ and the other products within noise. With the AVX2 kernel's one-line steps the walk costs about
    /// what the pass saves (m = 64 +5 %, m = 256 −1 to +2 %, m = 512 −2 %, 1024³ −1.5 %), so it keeps the pass.</remarks>
    private static bool PacksAsRead => TKernel.Columns * sizeof(T) >= 128;

    /// <summary>Where the op(B) block of a step and a slice of columns lies in B's storage.</summary>
    private GemmPrefetch SourceOfB(int step, int j0, int columns)
    {
        (int pc, int kc) = Depth(step);
        long stride = (long)_problem.Ldb * sizeof(T);
        return _problem.TransB
            ? new GemmPrefetch((byte*)(_b + (long)j0 * _problem.Ldb + pc), columns, kc * sizeof(T), stride)
            : new GemmPrefetch((byte*)(_b + (long)pc * _problem.Ldb + j0), kc, columns * sizeof(T), stride);
    }

    /// <summary>Start and depth of one step along k.</summary>
    private (int Start, int Depth) Depth(int step)
    {
        int start = step * _depthStep;
        return (start, Math.Min(_depthStep, _problem.K - start));
    }

    private static int CeilDiv(int x, int y) => (x + y - 1) / y;
}

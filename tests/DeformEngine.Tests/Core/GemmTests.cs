using System.Numerics;
using System.Runtime.CompilerServices;
using DeformEngine.Cpu;

namespace DeformEngine.Tests.Core;

[TestClass]
public class GemmTests
{
    /// <summary>Pairs for the two dimensions not being swept: sizes that straddle the micro-tile
    /// edges of both kernels (MR = 6 or 8, NR = 8, 16 or 32), the empty and the 1-wide cases,
    /// each size meeting a small and a large partner.</summary>
    private static readonly (int First, int Second)[] EdgePairs = [(0, 5), (1, 1), (7, 16), (16, 67), (33, 7), (67, 33)];

    private const int SweepLimit = 67;

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    [DataRow(true, true)]
    public void Multiply_SmallSizeSweepFloat_MatchesReference(bool transA, bool transB) =>
        Sweep<float>(transA, transB);

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    [DataRow(true, true)]
    public void Multiply_SmallSizeSweepDouble_MatchesReference(bool transA, bool transB) =>
        Sweep<double>(transA, transB);

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    [DataRow(true, true)]
    public void Multiply_OddLargeShape_MatchesReference(bool transA, bool transB)
    {
        // k = 519 spans two depth steps, so the beta step and the accumulate step both run.
        var shape = new GemmCase(transA, transB, 257, 131, 519, Alpha: 1.5, Beta: 0.5, Pad: 3);
        GemmChecks.AssertMatchesReference<float>(shape, seed: 11);
        GemmChecks.AssertMatchesReference<double>(shape, seed: 12);
    }

    /// <summary>n above the float nc (4096) gives two column blocks, and k = 600 three depth steps
    /// whose packed float B exceeds one group's budget, so two groups; m below one micro-panel
    /// leaves a single row block, so two threads split the columns instead.</summary>
    private static readonly GemmCase FewRowsManyColumns = new(false, true, 5, 4100, 600, Alpha: -1, Beta: 0.5, Pad: 1);

    /// <summary>Column mode with several row panels (an edge panel of 4 rows), a column tail
    /// (1000 = 62 panels of 16 + 8) and three depth steps.</summary>
    private static readonly GemmCase ColumnMode = new(false, true, 100, 1000, 600, Alpha: 1, Beta: 0.5, Pad: 3);

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    [DataRow(true, true)]
    public void Multiply_ColumnMode_MatchesReference(bool transA, bool transB)
    {
        var shape = ColumnMode with { TransA = transA, TransB = transB };
        GemmChecks.AssertMatchesReference<float>(shape, seed: 15);
        GemmChecks.AssertMatchesReference<double>(shape, seed: 16);
    }

    [TestMethod]
    [DataRow(false, true)]
    [DataRow(true, false)]
    public void Multiply_FewRowsManyColumns_MatchesReference(bool transA, bool transB)
    {
        var shape = FewRowsManyColumns with { TransA = transA, TransB = transB };
        GemmChecks.AssertMatchesReference<float>(shape, seed: 13);
        GemmChecks.AssertMatchesReference<double>(shape, seed: 14);
    }

    [TestMethod]
    [DataRow("GemmKernel256")]
    [DataRow("GemmKernel512")]
    public void Multiply_EachKernel_MatchesReference(string kernel)
    {
        // The driver picks one kernel per machine; run both explicitly (the other one emulated)
        // so that neither ships untested.
        var shape = new GemmCase(true, false, 45, 67, 300, Alpha: 0.75, Beta: 0.5, Pad: 2);
        if (kernel == "GemmKernel256")
        {
            GemmChecks.AssertMatchesReference<float, GemmKernel256<float>>(shape, seed: 21);
            GemmChecks.AssertMatchesReference<double, GemmKernel256<double>>(shape, seed: 22);
        }
        else
        {
            GemmChecks.AssertMatchesReference<float, GemmKernel512<float>>(shape, seed: 23);
            GemmChecks.AssertMatchesReference<double, GemmKernel512<double>>(shape, seed: 24);
        }
    }

    /// <summary>Column counts for the kernels' last panels: 112 = 2·48 + 16 and 128 = 2·48 + 32 end
    /// in an exact narrow panel of one or two Vector512 (the 8×48 kernel), 131 = 2·48 + 35 in a
    /// partial full-width one; for the 6×16 kernel they end in a full panel, a full panel and a
    /// partial narrow one. 97, 99 and 101 end in partial panels of 1, 3 and 5 columns for both kernels, which
    /// GemmColumnTail computes (but the 6×16 kernel's 5). m = 45 leaves an edge of 5 (8-row) or 3 (6-row) rows;
    /// k = 600 runs two depth steps, so the beta step and the accumulate step both meet every edge.</summary>
    private static readonly int[] LastPanelColumns = [112, 128, 131, 97, 99, 101];

    [TestMethod]
    [DataRow("GemmKernel256")]
    [DataRow("GemmKernel512")]
    public void Multiply_EachKernelEachLayoutAndLastPanel_MatchesReference(string kernel)
    {
        int seed = 100;
        foreach (int n in LastPanelColumns)
            foreach (var (transA, transB) in new[] { (false, false), (true, false), (false, true), (true, true) })
            {
                var shape = new GemmCase(transA, transB, 45, n, 600, Alpha: 0.75, Beta: 0.5, Pad: 1);
                if (kernel == "GemmKernel256")
                {
                    GemmChecks.AssertMatchesReference<float, GemmKernel256<float>>(shape, seed++);
                    GemmChecks.AssertMatchesReference<double, GemmKernel256<double>>(shape, seed++);
                }
                else
                {
                    GemmChecks.AssertMatchesReference<float, GemmKernel512<float>>(shape, seed++);
                    GemmChecks.AssertMatchesReference<double, GemmKernel512<double>>(shape, seed++);
                }
            }
    }

    /// <summary>One column panel and many rows: the two threads split the rows instead.</summary>
    private static readonly GemmCase TallNarrow = new(true, false, 300, 40, 700, Alpha: 1, Beta: 0.5, Pad: 2);

    /// <summary>9000 rows at depth 300 pack to more than the 8 MiB shared buffer of one depth step
    /// (10.8 MB float), so op(A) is taken in row blocks.</summary>
    private static readonly GemmCase RowBlocks = new(false, false, 9000, 20, 300, Alpha: 1, Beta: 0.25, Pad: 1);

    [TestMethod]
    public void Multiply_RowBlocksAndNarrowColumns_MatchesReference()
    {
        GemmChecks.AssertMatchesReference<float>(TallNarrow, seed: 51);
        GemmChecks.AssertMatchesReference<double>(TallNarrow with { TransA = false, TransB = true }, seed: 52);
        GemmChecks.AssertMatchesReference<float>(RowBlocks, seed: 53);
        GemmChecks.AssertMatchesReference<double>(RowBlocks with { TransA = true }, seed: 54);
    }

    [TestMethod]
    [DoNotParallelize]
    public void Multiply_OneAndTwoThreads_BitwiseIdentical()
    {
        // Threads split the rows of the first shape and the columns of the second.
        var shape = new GemmCase(false, true, 301, 203, 700, Alpha: 1, Beta: 0.5, Pad: 5);
        GemmChecks.AssertThreadCountInvariant<float>(shape, seed: 31);
        GemmChecks.AssertThreadCountInvariant<double>(shape, seed: 32);
        GemmChecks.AssertThreadCountInvariant<float>(FewRowsManyColumns, seed: 33);
        GemmChecks.AssertThreadCountInvariant<double>(FewRowsManyColumns, seed: 34);
        GemmChecks.AssertThreadCountInvariant<float>(ColumnMode, seed: 35);
        GemmChecks.AssertThreadCountInvariant<double>(ColumnMode with { TransA = true, TransB = false }, seed: 36);
        GemmChecks.AssertThreadCountInvariant<float>(TallNarrow, seed: 37);
        GemmChecks.AssertThreadCountInvariant<double>(RowBlocks, seed: 38);
        // Three column slices on two threads (with the AVX-512 kernel 10 + 10 + 2 panels), the last split by rows.
        var unevenSlices = new GemmCase(false, false, 100, 1024, 600, Alpha: 1, Beta: 0.5, Pad: 3);
        GemmChecks.AssertThreadCountInvariant<float>(unevenSlices, seed: 39);
        GemmChecks.AssertThreadCountInvariant<double>(unevenSlices with { TransB = true }, seed: 40);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void MultiplyPacked_SameAsMultiply_Bitwise(bool transB)
    {
        // Rows with an edge panel, columns ending in a narrow panel, k over several depth steps.
        foreach (var (m, n, k) in new[] { (45, 131, 600), (16, 50, 1100), (8, 392, 300) })
        {
            AssertPackedSameAsMultiply<float>(transB, m, n, k, seed: m + n);
            AssertPackedSameAsMultiply<double>(transB, m, n, k, seed: m + k);
        }
    }

    [TestMethod]
    public unsafe void PackA_SixRowPanels_EveryValueInPlaceAndNothingWrittenPastThePanels()
    {
        // The AVX2 kernel's 6-row float panels are packed with 6×8 transposes whose stores overlap and spill two
        // values past each group: every depth (fewer than 8 steps, multiples of 8, one past) and a last panel
        // must come out exactly as op(A) and leave the memory after the packed block untouched.
        const int rows = 12, lda = 40, mr = 6;
        var random = new Random(9);
        float[] a = Enumerable.Range(0, rows * lda).Select(_ => (float)random.NextDouble()).ToArray();
        foreach (int kc in new[] { 1, 7, 8, 9, 16, 17, 24, 31, 33 })
        {
            int length = rows * kc;
            float[] packed = Enumerable.Repeat(float.NaN, length + 16).ToArray();
            fixed (float* pa = a, pp = packed)
                GemmPacking.PackA(pa, lda, false, 0, rows, 3, kc, mr, pp);
            for (int panel = 0; panel < rows / mr; panel++)
                for (int p = 0; p < kc; p++)
                    for (int ii = 0; ii < mr; ii++)
                        Assert.AreEqual(a[(panel * mr + ii) * lda + 3 + p], packed[panel * mr * kc + p * mr + ii], $"kc={kc} panel {panel} step {p} row {ii}");
            for (int i = length; i < packed.Length; i++)
                Assert.IsTrue(float.IsNaN(packed[i]), $"kc={kc}: element {i - length} past the packed block was written");
        }
    }

    [TestMethod]
    [DoNotParallelize]
    public void Multiply_NarrowLastPanelSharedOrSplitByRows_SameForAnyThreadCount()
    {
        // n = 392 is 8 panels of 48 and one of 8 (with the AVX-512 kernel): on two threads the two 4-panel slices
        // each take half of the 8-column panel's rows; on three or four the 8-column panel is a slice of its own,
        // its rows split over the threads. Plain and prepacked A, rows ending in an edge panel, several depth
        // steps, beta ≠ 0.
        int saved = EngineOptions.Threads;
        try
        {
            foreach (var (m, n, k) in new[] { (203, 392, 700), (64, 196, 1100), (512, 392, 600) })
            {
                var random = new Random(m + n);
                float[] a = Enumerable.Range(0, m * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
                float[] b = Enumerable.Range(0, k * n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
                float[] initial = Enumerable.Range(0, m * n).Select(_ => (float)random.NextDouble()).ToArray();
                // The same op(B) stored k×n too (packed as read by the AVX-512 kernel's first row panels).
                float[] stored = new float[k * n];
                for (int j = 0; j < n; j++)
                    for (int p = 0; p < k; p++)
                        stored[p * n + j] = b[j * k + p];
                var packed = Gemm.PackA<float>(false, m, k, a, k);
                float[] Product(int threads, bool prepacked, bool transB = true)
                {
                    EngineOptions.Threads = threads;
                    float[] c = (float[])initial.Clone();
                    if (prepacked)
                        Gemm.MultiplyPacked(packed, true, n, 0.75f, b, k, 0.5f, c, n);
                    else if (transB)
                        Gemm.Multiply(false, true, m, n, k, 0.75f, a, k, b, k, 0.5f, c, n);
                    else
                        Gemm.Multiply(false, false, m, n, k, 0.75f, a, k, stored, n, 0.5f, c, n);
                    return c;
                }
                float[] expected = Product(1, prepacked: false);
                foreach (int threads in new[] { 2, 3, 4 })
                {
                    foreach (bool prepacked in new[] { false, true })
                        CollectionAssert.AreEqual(expected, Product(threads, prepacked), $"m={m} n={n} k={k}, {threads} threads, prepacked {prepacked}");
                    CollectionAssert.AreEqual(expected, Product(threads, prepacked: false, transB: false), $"m={m} n={n} k={k}, {threads} threads, B stored k×n");
                }
            }
        }
        finally
        {
            EngineOptions.Threads = saved;
        }
    }

    [TestMethod]
    public unsafe void PanelsA_PackedOnFirstTouch_EveryReaderSeesTheWholePanel()
    {
        // Four threads sweep the same panels, two from the first and two from the middle, wrapping round, as concurrent
        // GEMM tasks do: each panel must reach every thread exactly as PackA writes it (never half packed by another
        // thread), and end marked packed. 40 panels of 8 rows, the last one partial; rounds started together.
        const int mr = 8, rows = 40 * mr - 3, kc = 512, lda = kc + 5, p0 = 3, threads = 4, rounds = 30;
        int panels = (rows + mr - 1) / mr;
        var random = new Random(17);
        float[] a = GC.AllocateArray<float>(rows * lda, pinned: true);
        for (int i = 0; i < a.Length; i++)
            a[i] = (float)random.NextDouble() - 0.5f;
        float[] expected = GC.AllocateArray<float>(panels * mr * kc, pinned: true);
        float[] packed = GC.AllocateArray<float>(panels * mr * kc, pinned: true);
        int[] state = GC.AllocateArray<int>(panels, pinned: true);
        fixed (float* pa = a, pe = expected)
            GemmPacking.PackA(pa, lda, false, 0, rows, p0, kc, mr, pe);
        nint aAddress = (nint)Unsafe.AsPointer(ref a[0]), packedAddress = (nint)Unsafe.AsPointer(ref packed[0]);
        nint stateAddress = (nint)Unsafe.AsPointer(ref state[0]);
        int mismatches = 0;
        for (int round = 0; round < rounds; round++)
        {
            Array.Fill(packed, float.NaN);
            Array.Clear(state);
            using var start = new Barrier(threads);
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                var panelsA = new GemmPanelsA<float>((float*)packedAddress, (int*)stateAddress, (float*)aAddress, lda, false, 0, rows, p0);
                start.SignalAndWait();
                for (int index = 0; index < panels; index++)
                {
                    int ir = (t % 2 * panels / 2 + index) % panels * mr;
                    float* panel = panelsA.Panel(ir, kc, mr);
                    for (int i = 0; i < mr * kc; i++)
                        if (BitConverter.SingleToInt32Bits(panel[i]) != BitConverter.SingleToInt32Bits(expected[ir * kc + i]))
                        {
                            Interlocked.Increment(ref mismatches);
                            break;
                        }
                }
            })).ToList();
            workers.ForEach(w => w.Start());
            workers.ForEach(w => w.Join());
            CollectionAssert.AreEqual(Enumerable.Repeat(2, panels).ToArray(), state, $"round {round}: a panel not marked packed");
        }
        Assert.AreEqual(0, mismatches, "panels read before they were wholly packed, or packed wrongly");
    }

    [TestMethod]
    [DoNotParallelize] // sets EngineOptions.Threads
    [DataRow(21, 45, 1)]
    [DataRow(21, 45, 2)]
    [DataRow(37, 1201, 1)] // several depth steps (the last one shorter), each gathered panel by panel
    [DataRow(37, 1201, 3)]
    public void MultiplyPacked_ColumnOrder_SameAsReorderedMatrix(int m, int k, int threads)
    {
        // op(A)[i, p] = A[i, order[p]] packed directly must equal A with its columns re-ordered first.
        const int n = 70;
        int saved = EngineOptions.Threads;
        EngineOptions.Threads = threads;
        try
        {
            CompareColumnOrder(m, n, k);
        }
        finally
        {
            EngineOptions.Threads = saved;
        }
    }

    private static void CompareColumnOrder(int m, int n, int k)
    {
        var random = new Random(5);
        float[] a = Enumerable.Range(0, m * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] b = Enumerable.Range(0, k * n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        int[] order = Enumerable.Range(0, k).Select(p => p * 7 % k).ToArray(); // 7 and k coprime: a permutation
        float[] reordered = new float[m * k];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                reordered[i * k + p] = a[i * k + order[p]];
        float[] expected = new float[m * n], actual = new float[m * n];
        Gemm.MultiplyPacked(Gemm.PackA<float>(false, m, k, reordered, k), false, n, 1f, b, n, 0f, expected, n);
        Gemm.MultiplyPacked(Gemm.PackA<float>(false, m, k, a, k, order), false, n, 1f, b, n, 0f, actual, n);
        CollectionAssert.AreEqual(expected, actual);
    }

    [TestMethod]
    [DoNotParallelize]
    public void PackA_ResultDropped_StorageNotCollectedWhileTheWorkersPack()
    {
        // Gemm.PackA's workers write the packed storage through a raw pointer. Once the call was inlined into an optimised
        // caller that drops its result, nothing kept the storage alive while they did, and a background collection freed
        // it under them: the process died of an access violation (a benchmark's loop did, in most runs). Make a caller
        // that drops the result hot enough to be optimised, and pack on two threads while allocating.
        int saved = EngineOptions.Threads;
        try
        {
            EngineOptions.Threads = 2;
            const int m = 256, k = 2304;
            var a = new float[m * k];
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            int calls = 0;
            while (System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds < 1500 || calls < 200)
            {
                PackAndDrop(a, m, k);
                calls++;
            }
            // Reaching here is the test: the packed result of the last call is still right.
            var packed = Gemm.PackA<float>(false, m, k, a, k);
            float[] c = new float[m * 48];
            Gemm.MultiplyPacked(packed, true, 48, 1f, new float[48 * k], k, 0f, c, 48);
            Assert.IsTrue(c.All(v => v == 0f), "zeros times zeros");
        }
        finally
        {
            EngineOptions.Threads = saved;
        }
    }

    private static void PackAndDrop(float[] a, int m, int k)
    {
        Gemm.PackA<float>(false, m, k, a, k);
        _ = new byte[64 << 10];
    }

    [TestMethod]
    [DoNotParallelize]
    public void MultiplyPacked_PackedOperandHeldOnlyByTheCall_NotCollectedWhileTheProductRuns()
    {
        // A packed A that only the call refers to (as in Gemm.MultiplyPacked(Gemm.PackA(...), ...)) must live until
        // the product returns: its kernels read it through a raw pointer. Once the engine's methods are optimised,
        // nothing else kept it alive, and a collection during the product freed the memory under the kernel
        // (a crash, or a wrong product). Warm up so that those methods reach their optimised tier, then collect
        // from another thread while the product runs, and check that the operand survived.
        const int m = 1024, n = 512, k = 2048;
        var random = new Random(3);
        float[] a = Enumerable.Range(0, m * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] b = Enumerable.Range(0, n * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] small = new float[64 * 48];
        var warm = Gemm.PackA<float>(false, 64, 64, a, k);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds < 400)
            Gemm.MultiplyPacked(warm, true, 48, 1f, b, k, 0f, small, 48, threads: 1);
        float[] expected = new float[m * n];
        Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, expected, n);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            float[] c = Enumerable.Repeat(float.NaN, m * n).ToArray();
            var weak = new WeakReference(null);
            bool done = false, collectedWhileRunning = false;
            var collector = new Thread(() =>
            {
                // Once the product has written its first tile, collect while it is still running.
                while (float.IsNaN(Volatile.Read(ref c[0])) && !Volatile.Read(ref done))
                    Thread.Yield();
                for (int i = 0; i < 3 && !Volatile.Read(ref done); i++)
                {
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true);
                    GC.WaitForPendingFinalizers();
                    // The bottom-right element is written only once the last column slice starts: while it is
                    // still NaN the product is certainly running (the call returning ends no window here).
                    if (!weak.IsAlive && float.IsNaN(Volatile.Read(ref c[^1])))
                        collectedWhileRunning = true;
                }
            });
            collector.Start();
            MultiplyWithATemporaryPackedA(weak, a, m, n, k, b, c);
            Volatile.Write(ref done, true);
            collector.Join();
            Assert.IsFalse(collectedWhileRunning, $"attempt {attempt}: the packed A was collected while the product was reading it");
            CollectionAssert.AreEqual(expected, c, $"attempt {attempt}");
        }
    }

    /// <summary>Optimised at once, so that this frame does not keep the temporary packed A alive either.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyWithATemporaryPackedA(WeakReference weak, float[] a, int m, int n, int k, float[] b, float[] c) =>
        Gemm.MultiplyPacked(Track(weak, Gemm.PackA<float>(false, m, k, a, k)), true, n, 1f, b, k, 0f, c, n, threads: 1);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static GemmPackedA<float> Track(WeakReference weak, GemmPackedA<float> packed)
    {
        weak.Target = packed;
        return packed;
    }

    [TestMethod]
    [DoNotParallelize]
    public void Multiply_NarrowLastPanel_ColumnsBitwiseAsInsideAFullPanel()
    {
        // A last panel of at most half a vector of columns is computed with C's rows in the lanes (GemmColumnTail: up to
        // 8 float or 4 double columns with the AVX-512 kernel, 4 float with the AVX2 one; run the class with
        // DOTNET_EnableAVX512=0 for the latter): each of its columns must come out exactly as when the same
        // column of B sits in a full panel. Widths from 1 to past half a vector and a whole one (the row kernels), after
        // one panel and after eight (on two threads the slices then share the partial panel by rows), rows ending in an
        // edge panel, one and two depth steps, B transposed or stored, A prepacked, beta ≠ 0, one and two threads.
        int saved = EngineOptions.Threads;
        try
        {
            CheckNarrowColumns<float>([1, 2, 3, 4, 5, 7, 8, 9, 16]);
            CheckNarrowColumns<double>([1, 2, 3, 4, 5, 8]);
        }
        finally
        {
            EngineOptions.Threads = saved;
        }
    }

    private static void CheckNarrowColumns<T>(int[] widths) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(71);
        T[] Random(int length) => Enumerable.Range(0, length).Select(_ => T.CreateTruncating(random.NextDouble() - 0.5)).ToArray();
        int panel = Gemm.PanelColumns<T>(), inside = 2 * panel;
        T alpha = T.CreateTruncating(0.75), beta = T.CreateTruncating(0.5);
        foreach (var (m, k) in new[] { (203, 700), (64, 50) })
        {
            T[] a = Random(m * k);
            var packed = Gemm.PackA<T>(false, m, k, a, k);
            foreach (int panels in new[] { 1, 8 })
                foreach (int width in widths)
                {
                    int n = panels * panel + width;
                    // op(B) as n×k rows (transposed storage); the reference holds the last columns first, in a full panel.
                    T[] b = Random(n * k), reference = Random(inside * k);
                    Array.Copy(b, (long)(n - width) * k, reference, 0, (long)width * k);
                    T[] initial = Random(m * n), referenceInitial = Random(m * inside);
                    for (int i = 0; i < m; i++)
                        Array.Copy(initial, i * n + n - width, referenceInitial, i * inside, width);
                    foreach (int threads in new[] { 1, 2 })
                        foreach (string how in new[] { "B transposed", "B stored", "A prepacked" })
                        {
                            EngineOptions.Threads = threads;
                            T[] c = Product(how, b, n, initial), expected = Product(how, reference, inside, referenceInitial);
                            for (int i = 0; i < m; i++)
                                for (int j = 0; j < width; j++)
                                    Assert.IsTrue(expected[i * inside + j].Equals(c[i * n + n - width + j]),
                                        $"{typeof(T).Name} m={m} n={n} k={k}, {how}, {threads} thread(s): C[{i}, {n - width + j}] = " +
                                        $"{c[i * n + n - width + j]:R}, inside a full panel {expected[i * inside + j]:R}");
                        }
                }

            T[] Product(string how, T[] bRows, int n, T[] initial)
            {
                T[] c = (T[])initial.Clone();
                if (how == "A prepacked")
                    Gemm.MultiplyPacked(packed, true, n, alpha, bRows, k, beta, c, n);
                else if (how == "B transposed")
                    Gemm.Multiply(false, true, m, n, k, alpha, a, k, bRows, k, beta, c, n);
                else
                {
                    T[] stored = new T[k * n];
                    for (int j = 0; j < n; j++)
                        for (int p = 0; p < k; p++)
                            stored[p * n + j] = bRows[j * k + p];
                    Gemm.Multiply(false, false, m, n, k, alpha, a, k, stored, n, beta, c, n);
                }
                return c;
            }
        }
    }

    [TestMethod]
    public void Multiply_LastRowPanel_RowsBitwiseAsInsideAFullPanel()
    {
        // A last row panel with fewer rows than the kernel's runs the four-row kernel (four or more rows left) and
        // the full kernel into a scratch tile (the rest): each of its rows must come out exactly as when more rows
        // follow and it sits in a full panel. Both kernels, float and double, every remainder, beta ≠ 0, columns
        // ending in a narrow panel.
        CheckLastRowPanel<float, GemmKernel256<float>>();
        CheckLastRowPanel<double, GemmKernel256<double>>();
        CheckLastRowPanel<float, GemmKernel512<float>>();
        CheckLastRowPanel<double, GemmKernel512<double>>();
    }

    [TestMethod]
    [DoNotParallelize]
    public void Multiply_BStoredOrTransposed_Bitwise()
    {
        // A non-transposed B is packed by the first row panel's kernel calls as they read it (the AVX-512 kernel)
        // or by a packing pass; a transposed one always by the pass. Both must give the kernel the same panels,
        // so the products agree bit for bit: a value packed to the wrong place would reach the later row panels.
        // Both kernels, float and double, one and two threads; a first row panel shorter than the kernel's (no
        // packing as read), column slices ending in a partial panel, two depth steps with beta ≠ 0.
        int saved = EngineOptions.Threads;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                EngineOptions.Threads = threads;
                CheckStoredOrTransposed<float, GemmKernel256<float>>();
                CheckStoredOrTransposed<double, GemmKernel256<double>>();
                CheckStoredOrTransposed<float, GemmKernel512<float>>();
                CheckStoredOrTransposed<double, GemmKernel512<double>>();
            }
        }
        finally
        {
            EngineOptions.Threads = saved;
        }
    }

    private static void CheckStoredOrTransposed<T, TKernel>() where T : unmanaged, IFloatingPointIeee754<T> where TKernel : struct, IGemmKernel<T>
    {
        int mr = TKernel.Rows, nr = TKernel.Columns;
        int deep = GemmBlocking.For<T, TKernel>().Kc + 37;
        foreach (var (m, n, k) in new[] { (mr - 1, 3 * nr, 40), (mr, 2 * nr + TKernel.VectorLanes + 3, deep), (5 * mr + 3, 23 * nr + 5, deep) })
        {
            var random = new Random(m * 1000 + n + k);
            T[] a = Enumerable.Range(0, m * k).Select(_ => T.CreateTruncating(random.NextDouble() - 0.5)).ToArray();
            T[] b = Enumerable.Range(0, k * n).Select(_ => T.CreateTruncating(random.NextDouble() - 0.5)).ToArray();
            T[] bt = new T[n * k];
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++)
                    bt[j * k + p] = b[p * n + j];
            T[] initial = Enumerable.Range(0, m * n).Select(_ => T.CreateTruncating(random.NextDouble())).ToArray();
            T[] stored = (T[])initial.Clone(), transposed = (T[])initial.Clone();
            T alpha = T.CreateTruncating(0.75), beta = T.CreateTruncating(0.5);
            GemmDriver.Run<T, TKernel>(new GemmProblem(false, false, m, n, k, k, n, n), alpha, a, b, beta, stored);
            GemmDriver.Run<T, TKernel>(new GemmProblem(false, true, m, n, k, k, k, n), alpha, a, bt, beta, transposed);
            CollectionAssert.AreEqual(transposed, stored, $"{typeof(TKernel).Name}: m = {m}, n = {n}, k = {k}, threads = {EngineOptions.Threads}");
        }
    }

    private static void CheckLastRowPanel<T, TKernel>() where T : unmanaged, IFloatingPointIeee754<T> where TKernel : struct, IGemmKernel<T>
    {
        int mr = TKernel.Rows, n = 2 * TKernel.Columns + TKernel.VectorLanes + 3, k = 70, full = 2 * mr;
        var random = new Random(mr * 31 + n);
        T[] a = Enumerable.Range(0, full * k).Select(_ => T.CreateTruncating(random.NextDouble() - 0.5)).ToArray();
        T[] b = Enumerable.Range(0, k * n).Select(_ => T.CreateTruncating(random.NextDouble() - 0.5)).ToArray();
        T[] initial = Enumerable.Range(0, full * n).Select(_ => T.CreateTruncating(random.NextDouble())).ToArray();
        T[] Product(int m)
        {
            T[] c = initial[..(m * n)];
            GemmDriver.Run<T, TKernel>(new GemmProblem(false, false, m, n, k, k, n, n), T.CreateTruncating(0.75), a.AsSpan(0, m * k), b,
                T.CreateTruncating(0.5), c);
            return c;
        }
        T[] expected = Product(full);
        for (int m = mr + 1; m < full; m++)
            CollectionAssert.AreEqual(expected[..(m * n)], Product(m), $"{typeof(TKernel).Name}: m = {m}");
    }

    [TestMethod]
    public void PackA_ColumnOrderWrongLength_ThrowsNamingIt()
    {
        var exception = Assert.ThrowsExactly<ArgumentException>(() => Gemm.PackA<float>(false, 2, 3, new float[6], 3, [0, 1]));
        Assert.AreEqual("columnOrder", exception.ParamName);
        Assert.Contains("expected k = 3 entries, got 2", exception.Message);
    }

    private static void AssertPackedSameAsMultiply<T>(bool transB, int m, int n, int k, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        T[] Random(int length) => Enumerable.Range(0, length).Select(_ => T.CreateTruncating(random.NextDouble() - 0.5)).ToArray();
        T[] a = Random(m * k), b = Random(k * n), expected = Random(m * n);
        T[] actual = (T[])expected.Clone();
        int ldb = transB ? k : n;
        T alpha = T.CreateTruncating(0.75), beta = T.CreateTruncating(0.5);
        Gemm.Multiply(false, transB, m, n, k, alpha, a, k, b, ldb, beta, expected, n);
        Gemm.MultiplyPacked(Gemm.PackA<T>(false, m, k, a, k), transB, n, alpha, b, ldb, beta, actual, n);
        CollectionAssert.AreEqual(expected, actual, $"{typeof(T).Name} m={m} n={n} k={k} transB={transB}");
    }

    [TestMethod]
    [DoNotParallelize]
    public void Multiply_UseReferenceKernels_RoutesToReference()
    {
        var shape = new GemmCase(false, false, 20, 30, 40, Alpha: 1, Beta: 0, Pad: 0);
        bool saved = EngineOptions.UseReferenceKernels;
        try
        {
            EngineOptions.UseReferenceKernels = true;
            GemmChecks.AssertSameAsReferenceBitwise<float>(shape, seed: 41);
        }
        finally
        {
            EngineOptions.UseReferenceKernels = saved;
        }
    }

    [TestMethod]
    [DataRow(-1, 2, 3, 3, 2, 2, "m")]
    [DataRow(2, -1, 3, 3, 1, 1, "n")]
    [DataRow(2, 2, -1, 1, 2, 2, "k")]
    [DataRow(2, 2, 3, 2, 2, 2, "lda")]
    [DataRow(2, 2, 3, 3, 1, 2, "ldb")]
    [DataRow(2, 2, 3, 3, 2, 1, "ldc")]
    public void Multiply_BadDimensionOrStride_ThrowsNamingArgument(int m, int n, int k, int lda, int ldb, int ldc, string argument)
    {
        var data = new float[64];
        var exception = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            Gemm.Multiply(false, false, m, n, k, 1f, data, lda, data, ldb, 0f, data, ldc));
        Assert.AreEqual(argument, exception.ParamName);
        Assert.Contains(argument, exception.Message);
    }

    [TestMethod]
    [DataRow(5, 12, 8, "a")]
    [DataRow(6, 11, 8, "b")]
    [DataRow(6, 12, 7, "c")]
    public void Multiply_SpanTooShort_ThrowsNamingArgument(int aLength, int bLength, int cLength, string argument)
    {
        // A 2×3 needs 6 elements, B 3×4 needs 12, C 2×4 needs 8; each row makes one of them short.
        var exception = Assert.ThrowsExactly<ArgumentException>(() =>
            Gemm.Multiply(false, false, 2, 4, 3, 1f, new float[aLength], 3, new float[bLength], 4, 0f,
                new float[cLength], 4));
        int actual = argument switch { "a" => aLength, "b" => bLength, _ => cLength };
        Assert.AreEqual(argument, exception.ParamName);
        Assert.Contains($"must hold at least {actual + 1} elements", exception.Message);
        Assert.Contains($"but holds {actual}", exception.Message);
    }

    [TestMethod]
    public void MultiplyReference_BadStride_Throws() =>
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            Gemm.MultiplyReference(true, false, 2, 2, 3, 1.0, new double[6], 1, new double[6], 2, 0.0, new double[4], 2));

    /// <summary>Every size 0..67 in each dimension in turn, the other two drawn from
    /// <see cref="EdgePairs"/>; alpha, beta and stride padding rotate with the case index so that
    /// each combination meets many shapes without multiplying the run time.</summary>
    private static void Sweep<T>(bool transA, bool transB) where T : unmanaged, IFloatingPointIeee754<T>
    {
        (double Alpha, double Beta)[] scalings = [(1, 0), (1, 1), (-0.5, 0.5), (2, 0)];
        int index = 0;
        for (int sweptDimension = 0; sweptDimension < 3; sweptDimension++)
            for (int swept = 0; swept <= SweepLimit; swept++)
                foreach (var (first, second) in EdgePairs)
                {
                    int[] dims = sweptDimension switch
                    {
                        0 => [swept, first, second],
                        1 => [first, swept, second],
                        _ => [first, second, swept],
                    };
                    var (alpha, beta) = scalings[index % scalings.Length];
                    var shape = new GemmCase(transA, transB, dims[0], dims[1], dims[2], alpha, beta, Pad: index % 3);
                    GemmChecks.AssertMatchesReference<T>(shape, seed: index);
                    index++;
                }
    }
}

using DeformEngine.Cpu;
using DeformEngine.Kernels;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>What only the fast CPU path of DeformConv2d promises: results independent of the thread
/// count, and a workspace within <see cref="EngineOptions.WorkspaceBytes"/>. Its agreement with the
/// reference is in <see cref="DeformConv2dBackendTests"/>.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class DeformConv2dFastPathTests
{
    // Both paths sum the same products in a different order (chunked GEMM, per-corner channel sums
    // combined afterwards, fused multiply-adds): a few ulps per term over at most ~10³ terms.
    private const double DoubleTolerance = 1e-12;

    private static Tensor<T>?[] RunFast<T>(DeformConv2dCase c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var fast = TestBackends.Open<T>(TestBackends.CpuFast);
        return BackendRuns.ForwardBackward(fast.Device, c.Function<T>(), c.Inputs<T>(), c.UpstreamSeed);
    }

    [TestMethod]
    public void FastPath_OneAndTwoThreads_BitwiseIdenticalAcrossRuns()
    {
        var configs = new[]
        {
            new DeformConv2dCase("threads_a", 101, 4, 16, 8, 20, 19, 3, 3, (1, 1), (1, 1), (1, 1), 2, 2, true, true),
            new DeformConv2dCase("threads_b", 102, 33, 6, 4, 9, 7, 2, 3, (2, 1), (1, 0), (1, 2), 1, 3, true, false),
        };
        int savedThreads = EngineOptions.Threads;
        try
        {
            foreach (var config in configs)
            {
                EngineOptions.Threads = 1;
                var oneFloat = RunFast<float>(config);
                var oneDouble = RunFast<double>(config);
                EngineOptions.Threads = 2;
                BackendRuns.AssertIdentical(oneFloat, RunFast<float>(config), config.Names, $"float 1 vs 2 threads, {config}");
                BackendRuns.AssertIdentical(oneDouble, RunFast<double>(config), config.Names, $"double 1 vs 2 threads, {config}");
                BackendRuns.AssertIdentical(RunFast<float>(config), RunFast<float>(config), config.Names, $"float, two runs, {config}");
            }
        }
        finally
        {
            EngineOptions.Threads = savedThreads;
        }
    }

    [TestMethod]
    public void FastPath_LargeBatchTinyWorkspace_MatchesReferenceWithinBudget()
    {
        var config = new DeformConv2dCase("batch40_tiny_workspace", 201, 40, 2, 3, 7, 7, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, true);
        long savedBudget = EngineOptions.WorkspaceBytes;
        try
        {
            EngineOptions.WorkspaceBytes = 1 << 16;
            var dp = config.Parameters();
            // The plans the fast backend takes for this call's forward and full backward.
            var forward = DeformConv2dWorkspace.ForForward(dp, sizeof(double));
            var backward = DeformConv2dWorkspace.ForBackward(dp, sizeof(double), gradInput: true, gradOffsetOrMask: true, gradWeight: true);
            foreach (var plan in new[] { forward, backward })
            {
                Assert.IsTrue(plan.Bytes <= EngineOptions.WorkspaceBytes, $"plan of {plan.Bytes} bytes exceeds the budget");
                Assert.IsTrue(plan.ScratchLength * sizeof(double) + plan.TableLength * sizeof(int) <= plan.Bytes, "plan undercounts its scratch");
                Assert.IsTrue(plan.ChunkImages < config.N && plan.Chunks > 1, $"expected several chunks, got {plan.ChunkImages} images × {plan.Chunks}");
            }
            BackendRuns.MatchesReference(TestBackends.CpuFast, config.Function<double>(), config.Inputs<double>(),
                Tolerance.Everywhere(DoubleTolerance), "batch 40 in a 64 KiB workspace", config.UpstreamSeed, config.Names);
        }
        finally
        {
            EngineOptions.WorkspaceBytes = savedBudget;
        }
    }

    /// <summary>Tiles are the whole image where it fits (one thread) or a whole number of the GEMM kernel's column
    /// panels (a tile ending in a narrow panel runs it on the slow narrow kernel), never more than fit, and the
    /// balanced size where no whole number of panels reaches <see cref="DeformConv2dWorkspace.MinForwardTileRows"/>, none
    /// where fewer than that fit even in the stretched budget;
    /// on two threads the size that shares the tiles out better.</summary>
    [TestMethod]
    public void ForwardTileRows_WholePanelsWithinTheBudget()
    {
        long savedTile = DeformConv2dWorkspace.ForwardTileBytes;
        try
        {
            foreach (int elementSize in new[] { sizeof(float), sizeof(double) })
            {
                int panel = elementSize == sizeof(float) ? Gemm.PanelColumns<float>() : Gemm.PanelColumns<double>();
                // C256 28×28 (784 positions, rows of 2304), C64 56×56 (3136 positions, rows of 576), C7 19×21 (399 positions, rows of 63).
                foreach (var (channels, size) in new[] { (256, 28), (64, 56), (7, 20) })
                {
                    var dp = new DeformConv2dParams(new Conv2dParams(1, channels, size, size + 1, 8, 3, 3, (1, 1), (1, 1), (1, 1), 1), 1, true);
                    int positions = dp.Conv.ColumnCols;
                    long rowBytes = (long)dp.Conv.ColumnRows * elementSize;
                    int min = DeformConv2dWorkspace.MinForwardTileRows(elementSize);
                    foreach (long budgetRows in new long[] { 40, 60, 96, 100, 113, 150, 455, positions, 2L * positions })
                    {
                        DeformConv2dWorkspace.ForwardTileBytes = budgetRows * rowBytes;
                        // Below 96 rows the budget is stretched by half.
                        long fit = budgetRows >= 96 ? budgetRows : budgetRows * 3 / 2;
                        Assert.AreEqual(fit, DeformConv2dWorkspace.TileBytes(rowBytes) / rowBytes, $"budget of {budgetRows} rows");
                        int rows = DeformConv2dWorkspace.ForwardTileRows(dp, elementSize);
                        string what = $"C{channels} {positions} positions, fit {fit}, element {elementSize} B, panel {panel}: {rows} rows";
                        if (fit < min)
                        {
                            Assert.AreEqual(0, rows, what);
                            continue;
                        }
                        if (fit >= positions)
                        {
                            Assert.AreEqual(positions, rows, what);
                            continue;
                        }
                        long tiles = (positions + fit - 1) / fit, balanced = (positions + tiles - 1) / tiles;
                        // Never more than fits; never fewer than the balanced tiles need (no extra tile).
                        Assert.IsTrue(rows <= fit && (rows >= balanced || rows >= min), what);
                        if (fit / panel * panel >= min)
                            Assert.AreEqual(0, rows % panel, what);
                        else
                            Assert.AreEqual(balanced, rows, what);
                    }
                }
            }
            // Long rows at this machine's budget: float N2 C512 14×14 (rows of 18 KiB) stays untiled, double C256 28×28
            // (the same rows) and float C384 28×28 (13.5 KiB) are tiled in the stretched budget.
            DeformConv2dWorkspace.ForwardTileBytes = 1L << 20;
            var c512 = new DeformConv2dParams(new Conv2dParams(2, 512, 14, 14, 512, 3, 3, (1, 1), (1, 1), (1, 1), 1), 1, true);
            var c256Deep = new DeformConv2dParams(new Conv2dParams(4, 256, 28, 28, 256, 3, 3, (1, 1), (1, 1), (1, 1), 1), 1, true);
            var c384 = new DeformConv2dParams(new Conv2dParams(2, 384, 28, 28, 384, 3, 3, (1, 1), (1, 1), (1, 1), 1), 1, true);
            Assert.AreEqual(0, DeformConv2dWorkspace.ForwardTileRows(c512, sizeof(float), threads: 2), "float N2 C512");
            int doubleRows = DeformConv2dWorkspace.ForwardTileRows(c256Deep, sizeof(double), threads: 2);
            Assert.IsTrue(doubleRows >= 48 && doubleRows <= (3L << 19) / (2304 * 8), $"double C256: {doubleRows} rows");
            int c384Rows = DeformConv2dWorkspace.ForwardTileRows(c384, sizeof(float), threads: 2);
            Assert.IsTrue(c384Rows >= 96 && c384Rows <= (3L << 19) / (3456 * 4), $"float C384: {c384Rows} rows");
            // One image that fits whole is still cut when there are two threads to share it.
            var c64Small = new DeformConv2dParams(new Conv2dParams(1, 64, 28, 28, 64, 3, 3, (1, 1), (1, 1), (1, 1), 1), 1, true);
            DeformConv2dWorkspace.ForwardTileBytes = 1000L * 576 * sizeof(float);
            Assert.AreEqual(784, DeformConv2dWorkspace.ForwardTileRows(c64Small, sizeof(float), threads: 1));
            Assert.IsTrue(DeformConv2dWorkspace.ForwardTileRows(c64Small, sizeof(float), threads: 2) < 784, "one image on two threads");
            // The numbers of the remark, on a machine whose float panel is 48 wide (AVX-512).
            if (Gemm.PanelColumns<float>() == 48)
            {
                var c256 = new DeformConv2dParams(new Conv2dParams(1, 256, 28, 28, 256, 3, 3, (1, 1), (1, 1), (1, 1), 1), 1, true);
                DeformConv2dWorkspace.ForwardTileBytes = 113L * 2304 * sizeof(float);
                Assert.AreEqual(96, DeformConv2dWorkspace.ForwardTileRows(c256, sizeof(float), threads: 2));
                // N1 C64 56×56, 455 rows fit: two threads share 8 × 384 + 64 better than 7 × 432 + 112; one thread
                // takes the fewer, larger tiles.
                var c64 = new DeformConv2dParams(new Conv2dParams(1, 64, 56, 56, 64, 3, 3, (1, 1), (1, 1), (1, 1), 1), 1, true);
                DeformConv2dWorkspace.ForwardTileBytes = 455L * 576 * sizeof(float);
                Assert.AreEqual(384, DeformConv2dWorkspace.ForwardTileRows(c64, sizeof(float), threads: 2));
                Assert.AreEqual(432, DeformConv2dWorkspace.ForwardTileRows(c64, sizeof(float), threads: 1));
            }
        }
        finally
        {
            DeformConv2dWorkspace.ForwardTileBytes = savedTile;
        }
    }

    /// <summary>The tiled forward (sampling and product per tile of positions, into the output) against the
    /// untiled one (a column matrix, one product per chunk, then the bias): bitwise the same, for one tile per
    /// image and for several (the last one shorter), with groups, offset groups, stride, no mask, no bias, a
    /// batch and both thread counts. Both run the same sums; a tile boundary, a missed tile or a bias added
    /// twice changes the output.</summary>
    [TestMethod]
    public void TiledForward_OneOrManyTilesPerImage_BitwiseSameAsUntiled()
    {
        var configs = new[]
        {
            new DeformConv2dCase("tiles_mask_bias", 301, 3, 4, 5, 19, 21, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, true),
            new DeformConv2dCase("tiles_groups_og", 302, 2, 6, 9, 20, 20, 3, 3, (1, 1), (1, 1), (1, 1), 3, 2, true, false),
            new DeformConv2dCase("tiles_stride_nomask", 303, 2, 4, 6, 25, 23, 3, 3, (2, 1), (1, 1), (1, 1), 2, 1, false, true),
        };
        long savedTile = DeformConv2dWorkspace.ForwardTileBytes;
        int savedThreads = EngineOptions.Threads;
        try
        {
            foreach (var config in configs)
            {
                var dp = config.Parameters();
                foreach (int threads in new[] { 1, 2 })
                {
                    EngineOptions.Threads = threads;
                    CpuFastBackend.TiledForward = false;
                    var untiledFloat = Forward<float>(config);
                    var untiledDouble = Forward<double>(config);
                    CpuFastBackend.TiledForward = true;
                    // One tile per image, then tiles of 96 rows (several per image, the last shorter).
                    foreach (long rows in new long[] { 1 << 20, 96 })
                    {
                        DeformConv2dWorkspace.ForwardTileBytes = rows * dp.Conv.ColumnRows * sizeof(float);
                        int tileRows = DeformConv2dWorkspace.ForwardTileRows(dp, sizeof(float));
                        Assert.IsTrue(tileRows > 0, $"{config}: the tiled forward must run");
                        if (rows < dp.Conv.ColumnCols)
                            Assert.IsTrue(tileRows < dp.Conv.ColumnCols, $"{config}: expected several tiles per image, got {tileRows} rows");
                        AssertBitwise(untiledFloat, Forward<float>(config), $"float, {threads} threads, tiles of {tileRows}, {config}");
                        DeformConv2dWorkspace.ForwardTileBytes = rows * dp.Conv.ColumnRows * sizeof(double);
                        AssertBitwise(untiledDouble, Forward<double>(config), $"double, {threads} threads, {config}");
                    }
                    DeformConv2dWorkspace.ForwardTileBytes = savedTile;
                }
                // And the tiled forward against the reference loops.
                var expected = Forward<double>(config, TestBackends.CpuReference);
                DeformConv2dWorkspace.ForwardTileBytes = 96L * dp.Conv.ColumnRows * sizeof(double);
                var tiled = Forward<double>(config);
                for (int i = 0; i < expected.Length; i++)
                    Assert.AreEqual(expected[i], tiled[i], DoubleTolerance, $"{config}: output {i} against the reference");
            }
        }
        finally
        {
            DeformConv2dWorkspace.ForwardTileBytes = savedTile;
            CpuFastBackend.TiledForward = true;
            EngineOptions.Threads = savedThreads;
        }
    }

    /// <summary>The backward's one pass over the sampling points that also adds the input gradient (one task per
    /// image) against its two passes (sampling points in blocks of positions, then the input gradient in runs of
    /// channels from the coefficient table): every gradient bitwise the same, with a mask or none, groups, offset
    /// groups, stride, dilation, points outside the image and on its edges, channels split into runs, several
    /// chunks, on one and two threads. Both add the same terms to each input-gradient element in the same order;
    /// a missed or doubled corner, a wrong pixel or a different order changes some element.</summary>
    [TestMethod]
    public void FusedInputGradient_BitwiseSameAsTwoPasses()
    {
        var configs = new[]
        {
            new DeformConv2dCase("fused_mask_bias", 401, 8, 5, 6, 15, 13, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, true),
            new DeformConv2dCase("fused_groups_og", 402, 9, 6, 9, 13, 14, 3, 3, (1, 1), (1, 1), (1, 1), 3, 2, true, false),
            new DeformConv2dCase("fused_stride_dil_nomask", 403, 4, 4, 4, 27, 25, 3, 2, (2, 1), (1, 1), (2, 1), 2, 1, false, true),
            new DeformConv2dCase("fused_far_offsets", 404, 5, 3, 5, 16, 17, 3, 3, (1, 1), (1, 1), (1, 1), 1, 3, true, true, OffsetScale: 6),
            new DeformConv2dCase("fused_long_runs", 405, 4, 300, 8, 5, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, false),
        };
        int savedThreads = EngineOptions.Threads;
        long savedBudget = EngineOptions.WorkspaceBytes;
        try
        {
            foreach (var config in configs)
            {
                var dp = config.Parameters();
                foreach (int threads in new[] { 1, 2 })
                    foreach (long budget in new[] { savedBudget, 0L })
                    {
                        EngineOptions.Threads = threads;
                        // The default workspace holds the whole batch; the smallest one a few images per chunk.
                        var plan = DeformConv2dWorkspace.ForBackward(dp, sizeof(float), true, true, true);
                        if (budget == 0)
                        {
                            // Two chunks, each with an image or more per thread.
                            if (config.N < 2 * threads) continue;
                            // A budget of exactly the plan of half the batch (float; double runs in smaller chunks).
                            var half = config with { N = (config.N + 1) / 2 };
                            EngineOptions.WorkspaceBytes = DeformConv2dWorkspace.ForBackward(half.Parameters(), sizeof(float), true, true, true).Bytes;
                            plan = DeformConv2dWorkspace.ForBackward(dp, sizeof(float), true, true, true);
                            Assert.AreEqual(2, plan.Chunks, $"{config}: expected two chunks of {plan.ChunkImages} images");
                        }
                        var chunk = new DeformChunk(dp, 0, Math.Min(plan.ChunkImages, config.N));
                        Assert.IsTrue(DeformConv2dFastKernels.FusesInputGradient(chunk, threads),
                            $"{config}: the fused pass must run on {threads} threads ({chunk.Images} images per chunk)");
                        string what = $"{threads} threads, {plan.ChunkImages} images per chunk, {config}";
                        CpuFastBackend.FusedInputGradient = false;
                        var twoPassFloat = RunFast<float>(config);
                        var twoPassDouble = RunFast<double>(config);
                        CpuFastBackend.FusedInputGradient = true;
                        BackendRuns.AssertIdentical(twoPassFloat, RunFast<float>(config), config.Names, $"float, {what}");
                        BackendRuns.AssertIdentical(twoPassDouble, RunFast<double>(config), config.Names, $"double, {what}");
                        EngineOptions.WorkspaceBytes = savedBudget;
                    }
            }
        }
        finally
        {
            CpuFastBackend.FusedInputGradient = true;
            EngineOptions.Threads = savedThreads;
            EngineOptions.WorkspaceBytes = savedBudget;
        }
    }

    /// <summary>The bias gradient, summed while the backward lays the upstream gradient out for its products (chunk by
    /// chunk, in tasks of output channels), is bitwise the plain per-plane sums over the batch in image order; so is the
    /// one computed alone when no other gradient is asked for. One and two threads, one chunk and several.</summary>
    [TestMethod]
    public void BiasGradient_SummedWithTheLayoutCopy_BitwiseSameAsAlone()
    {
        var config = new DeformConv2dCase("bias_chunks", 501, 7, 3, 5, 12, 11, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, true);
        int savedThreads = EngineOptions.Threads;
        long savedBudget = EngineOptions.WorkspaceBytes;
        try
        {
            var upstream = Tensor<double>.Randn(config.UpstreamSeed, config.N, config.O, config.OutH, config.OutW).ToArray();
            var expected = ConvGemm.GradBiasVectorized<double>(upstream, config.N, config.O, config.OutH * config.OutW);
            var half = config with { N = 2 };
            foreach (long budget in new[] { savedBudget, DeformConv2dWorkspace.ForBackward(half.Parameters(), sizeof(double), true, true, true).Bytes })
                foreach (int threads in new[] { 1, 2 })
                {
                    EngineOptions.Threads = threads;
                    EngineOptions.WorkspaceBytes = budget;
                    using var fast = TestBackends.Open<double>(TestBackends.CpuFast);
                    string what = $"{threads} threads, workspace {budget}";
                    var all = BackendRuns.ForwardBackward(fast.Device, config.Function<double>(), config.Inputs<double>(), config.UpstreamSeed);
                    var alone = BackendRuns.ForwardBackward(fast.Device, config.Function<double>(), config.Inputs<double>(), config.UpstreamSeed,
                        requires: [false, false, false, true, false]);
                    CollectionAssert.AreEqual(expected, all[4]!.ToArray(), $"with every gradient, {what}");
                    CollectionAssert.AreEqual(expected, alone[4]!.ToArray(), $"alone, {what}");
                }
        }
        finally
        {
            EngineOptions.Threads = savedThreads;
            EngineOptions.WorkspaceBytes = savedBudget;
        }
    }

    /// <summary>The backward's scratch buffers (padded images, product, columns, gradient columns, padded input
    /// gradient, coefficient weights) and a thread's tile buffer start on 64-byte boundaries, lie inside the scratch
    /// array and do not overlap, for float and double, with and without each optional buffer, and with odd lengths
    /// (which the rounding must carry to the next line).</summary>
    [TestMethod]
    public void Workspace_BuffersStartOnCacheLines_InsideTheArray_WithoutOverlap()
    {
        foreach (var config in new[] { DeformConv2dCase.Named("odd_k3x2_nomask_nobias"), DeformConv2dCase.Named("groups3_og2"),
                     DeformConv2dCase.Named("batch33") })
            foreach (var (input, offsetOrMask, weight) in new[] { (true, true, true), (true, false, false), (false, true, true), (false, false, true) })
            {
                var dp = config.Parameters();
                CheckBuffers<float>(DeformConv2dWorkspace.ForBackward(dp, sizeof(float), input, offsetOrMask, weight), $"float, {config}");
                CheckBuffers<double>(DeformConv2dWorkspace.ForBackward(dp, sizeof(double), input, offsetOrMask, weight), $"double, {config}");
            }
        foreach (int length in new[] { 1, 17, 1000 })
        {
            CheckLine(ThreadScratch<float>.Get(length), $"float tile of {length}");
            CheckLine(ThreadScratch<double>.Get(length), $"double tile of {length}");
        }
    }

    private static void CheckBuffers<T>(DeformConv2dWorkspace plan, string what) where T : unmanaged
    {
        var scratch = ScratchArrays<T>.Rent(plan.ScratchLength);
        try
        {
            var buffers = new (string Name, Memory<T> Buffer)[]
            {
                ("padded", plan.Padded(scratch)), ("product", plan.Product(scratch)), ("columns", plan.Columns(scratch)),
                ("gradient columns", plan.GradColumns(scratch)), ("padded input gradient", plan.GradPadded(scratch)),
                ("table weights", plan.TableWeights(scratch)),
            };
            var ranges = new List<(long Start, long End, string Name)>();
            foreach (var (name, buffer) in buffers)
            {
                if (buffer.Length == 0) continue;
                CheckLine(buffer.Span, $"{what}: {name}");
                long start = Offset(scratch, buffer.Span);
                Assert.IsTrue(start >= 0 && start + buffer.Length <= scratch.Length,
                    $"{what}: {name} [{start}, {start + buffer.Length}) outside the scratch of {scratch.Length}");
                foreach (var (s, e, other) in ranges)
                    Assert.IsTrue(start >= e || start + buffer.Length <= s, $"{what}: {name} overlaps {other}");
                ranges.Add((start, start + buffer.Length, name));
            }
        }
        finally
        {
            ScratchArrays<T>.Return(scratch);
        }
    }

    private static unsafe void CheckLine<T>(Span<T> buffer, string what) where T : unmanaged
    {
        fixed (T* start = buffer)
            Assert.AreEqual(0L, (long)((nuint)start % 64), $"{what}: starts {(nuint)start % 64} bytes past a 64-byte boundary");
    }

    private static unsafe long Offset<T>(T[] array, Span<T> buffer) where T : unmanaged
    {
        fixed (T* a = array)
        fixed (T* b = buffer)
            return (b - a);
    }

    private static T[] Forward<T>(DeformConv2dCase c, string backend = TestBackends.CpuFast) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var selected = TestBackends.Open<T>(backend);
        var inputs = c.Inputs<T>().Select(t => t.To(selected.Device)).ToArray();
        using (Autograd.NoGrad())
            return c.Function<T>()(inputs).To(Device.Cpu).ToArray();
    }

    private static void AssertBitwise<T>(T[] expected, T[] actual, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
            if (!expected[i].Equals(actual[i]))
                Assert.Fail($"{what}: output {i} is {actual[i]}, untiled {expected[i]}");
    }
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>What only the fast CPU path of Conv2d promises: results independent of the thread count, and
/// chunks within <see cref="EngineOptions.WorkspaceBytes"/>. Its agreement with the reference is in
/// <see cref="Conv2dBackendTests"/>.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class Conv2dFastPathTests
{
    // Both paths sum the same products in a different order: a few ulps per term.
    private const double FloatTolerance = 1e-4;
    private const double DoubleTolerance = 1e-12;

    private static Tensor<T>?[] RunFast<T>(Conv2dCase c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var fast = TestBackends.Open<T>(TestBackends.CpuFast);
        return BackendRuns.ForwardBackward(fast.Device, c.Function<T>(), c.Inputs<T>(), c.UpstreamSeed);
    }

    [TestMethod]
    public void FastPath_OneAndTwoThreads_BitwiseIdenticalAcrossRuns()
    {
        var configs = new[]
        {
            new Conv2dCase("threads_a", 101, 4, 16, 8, 20, 19, 3, 3, (1, 1), (1, 1), (1, 1), 2, true),
            new Conv2dCase("threads_b", 102, 33, 6, 4, 9, 7, 2, 3, (2, 1), (1, 0), (1, 2), 1, false),
            new Conv2dCase("threads_pointwise", 103, 5, 12, 10, 8, 9, 1, 1, (1, 1), (0, 0), (1, 1), 2, true),
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
    public void FastPath_LargeBatchTinyWorkspace_MatchesReference()
    {
        var config = new Conv2dCase("batch40_tiny_workspace", 201, 40, 2, 3, 7, 7, 3, 3, (1, 1), (1, 1), (1, 1), 1, true);
        long savedBudget = EngineOptions.WorkspaceBytes;
        try
        {
            EngineOptions.WorkspaceBytes = 1 << 16;
            var cp = new Conv2dParams(config.N, config.C, config.H, config.W, config.O, config.Kh, config.Kw,
                config.Stride, config.Padding, config.Dilation, config.Groups);
            foreach (int matrices in new[] { 1, 2 })
            {
                int images = CpuFastBackend.Conv2dChunkImages(cp, sizeof(double), matrices);
                long bytes = ((long)cp.OutChannels + matrices * cp.ColumnRows) * cp.ColumnCols * images * sizeof(double);
                Assert.IsTrue(images > 1 && images < config.N, $"expected several chunks of several images, got {images}");
                Assert.IsTrue(bytes <= EngineOptions.WorkspaceBytes, $"chunk of {bytes} bytes exceeds the budget");
            }
            var tolerance = Tolerance.Everywhere(FloatTolerance, DoubleTolerance);
            BackendRuns.MatchesReference(TestBackends.CpuFast, config.Function<double>(), config.Inputs<double>(), tolerance,
                "batch 40 in a 64 KiB workspace", config.UpstreamSeed, config.Names);
            BackendRuns.MatchesReference(TestBackends.CpuFast, config.Function<float>(), config.Inputs<float>(), tolerance,
                "float, batch 40 in a 64 KiB workspace", config.UpstreamSeed, config.Names);
        }
        finally
        {
            EngineOptions.WorkspaceBytes = savedBudget;
        }
    }
}

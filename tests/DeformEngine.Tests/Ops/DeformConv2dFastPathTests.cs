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
            var dp = new DeformConv2dParams(new Conv2dParams(config.N, config.C, config.H, config.W, config.O, config.Kh, config.Kw,
                config.Stride, config.Padding, config.Dilation, config.Groups), config.OffsetGroups, config.Mask);
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
}

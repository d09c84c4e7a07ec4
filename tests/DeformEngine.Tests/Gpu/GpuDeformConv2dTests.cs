using DeformEngine.Gpu;
using DeformEngine.Tests.Ops;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>DeformConv2d in a device's deterministic mode: bitwise the same over runs. Its agreement with
/// the CPU reference in the default mode is in <see cref="DeformConv2dBackendTests"/>.</summary>
[TestClass]
public class GpuDeformConv2dTests
{
    // Float sums of up to a few hundred products, in other orders (GEMM tiles, the sum of the loss)
    // than on the CPU: a few ulps of the largest value, far below this.
    private const double FloatTolerance = 1e-4;

    // The same sums in double; the deterministic fixed-point scatter keeps 2^-62 of its bound.
    private const double DoubleTolerance = 1e-10;

    public static IEnumerable<object[]> Runs => TestBackends.Cross(TestBackends.Gpus, new object[][] { ["float"], ["double"] });

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void DeformConv2d_DeterministicMode_BitwiseIdenticalAcrossRunsAndCloseToCpu(string backend, string precision)
    {
        using var device = TestBackends.OpenNewDevice(backend);
        device.Deterministic = true;
        if (precision == "float") CheckDeterministic<float>(device, FloatTolerance);
        else CheckDeterministic<double>(device, DoubleTolerance);
    }

    private static void CheckDeterministic<T>(GpuDevice device, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TestBackends.RequirePrecision<T>(device);
        // Many sampling points land on the same cells (big offsets, batch 33): the case where atomics
        // would add in a varying order.
        foreach (var name in new[] { "batch33", "large_offsets", "groups2_og2" })
        {
            var c = DeformConv2dCase.Named(name);
            var inputs = c.Inputs<T>();
            var first = BackendRuns.ForwardBackward(device, c.Function<T>(), inputs, c.UpstreamSeed);
            var second = BackendRuns.ForwardBackward(device, c.Function<T>(), inputs, c.UpstreamSeed);
            BackendRuns.AssertIdentical(first, second, c.Names, $"{device.Name} {c}");
            var expected = BackendRuns.ForwardBackward(Device.Cpu, c.Function<T>(), inputs, c.UpstreamSeed);
            BackendRuns.AssertClose(expected, first, c.Names, tolerance, $"{device.Name} deterministic {c}");
        }
    }
}

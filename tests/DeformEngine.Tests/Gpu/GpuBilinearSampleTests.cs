using DeformEngine.Tests.Ops;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>BilinearSample in a device's deterministic mode: bitwise the same over runs. Its agreement with
/// the CPU reference in the default mode is in <see cref="BilinearSampleTests"/>.</summary>
[TestClass]
public class GpuBilinearSampleTests
{
    // Channel sums of a handful of float products; the scatter adds ≤ P terms per cell in another order.
    private const double FloatTolerance = 1e-4;

    public static IEnumerable<object[]> Backends => TestBackends.GpuRows;

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BilinearSample_DeterministicMode_BitwiseIdenticalAcrossRuns(string backend)
    {
        using var device = TestBackends.OpenNewDevice(backend);
        device.Deterministic = true;
        var function = BilinearSampleTests.Function<float>();
        foreach (var c in BilinearSampleTests.Cases.Where(x => !x.NonFinite))
        {
            var inputs = c.Inputs<float>();
            var first = BackendRuns.ForwardBackward(device, function, inputs, seed: 53);
            var second = BackendRuns.ForwardBackward(device, function, inputs, seed: 53);
            BackendRuns.AssertIdentical(first, second, BilinearSampleTests.Names, $"{device.Name} {c}");
            var expected = BackendRuns.ForwardBackward(Device.Cpu, function, inputs, seed: 53);
            BackendRuns.AssertClose(expected, first, BilinearSampleTests.Names, FloatTolerance, $"{device.Name} deterministic {c}");
        }
    }
}

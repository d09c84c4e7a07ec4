using DeformEngine.Gpu;
using DeformEngine.Tests.Ops;
using DeformEngine.Tests.Support;
using static DeformEngine.Tests.Ops.RoIPoolingBackendTests;

namespace DeformEngine.Tests.Gpu;

/// <summary>The RoI pooling operators in a device's deterministic mode, and with RoIs left on the CPU. Their
/// agreement with the CPU reference in the default mode is in <see cref="RoIPoolingBackendTests"/>.</summary>
[TestClass]
public class GpuRoIPoolingTests
{
    // Bin means of a few bilinear samples and channel sums of their slopes, in float, with the
    // input gradient scattered in another order than on the CPU: a few ulps of the largest value.
    private const double FloatTolerance = 1e-4;

    // The same in double; the deterministic fixed-point scatter keeps 2^-62 of its bound.
    private const double DoubleTolerance = 1e-10;

    public static IEnumerable<object[]> DeterministicRuns => TestBackends.Cross(TestBackends.Gpus, new object[][] { ["float"], ["double"] });

    public static IEnumerable<object[]> Backends => TestBackends.GpuRows;

    [TestMethod]
    [DynamicData(nameof(DeterministicRuns))]
    public void RoIPooling_DeterministicMode_BitwiseIdenticalAcrossRunsAndCloseToCpu(string backend, string precision)
    {
        using var device = TestBackends.OpenNewDevice(backend);
        device.Deterministic = true;
        if (precision == "float") CheckDeterministic<float>(device, FloatTolerance);
        else CheckDeterministic<double>(device, DoubleTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void RoIAlign_RoisOnTheCpu_ThrowsNamingRois(string backend)
    {
        var device = TestBackends.SharedDevice(backend);
        var input = Tensor<float>.Randn(605, 1, 2, 5, 5).To(device);
        var rois = Tensor<float>.FromArray([0, 1, 1, 3, 3], 1, 5);
        var error = Assert.ThrowsExactly<ArgumentException>(() => Functional.RoIAlign(input, rois, (2, 2)));
        Assert.AreEqual("rois", error.ParamName);
    }

    private static void CheckDeterministic<T>(GpuDevice device, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TestBackends.RequirePrecision<T>(device);
        // Many RoIs over few pixels: many bins add into the same cells.
        var runs = new List<(Func<Tensor<T>[], Tensor<T>> Function, Tensor<T>[] Inputs, string[] Names, string Name)>();
        foreach (var c in new[] { FixedAlign[0], FixedAlign[3], FixedAlign[6] })
            runs.Add((AlignFunction<T>(c), AlignInputs<T>(c), AlignNames(c), c.Name));
        runs.Add((PSFunction<T>(PSCases[1]), PSInputs<T>(PSCases[1]), PSNames(PSCases[1]), PSCases[1].Name));
        foreach (var (function, inputs, names, name) in runs)
        {
            var first = BackendRuns.ForwardBackward(device, function, inputs, seed: 607);
            var second = BackendRuns.ForwardBackward(device, function, inputs, seed: 607);
            BackendRuns.AssertIdentical(first, second, names, $"{device.Name} {name}");
            var expected = BackendRuns.ForwardBackward(Device.Cpu, function, inputs, seed: 607);
            BackendRuns.AssertClose(expected, first, names, tolerance, $"{device.Name} deterministic {name}");
        }
    }
}

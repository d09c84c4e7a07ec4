using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>DeformConv2d on every backend against the CPU reference (the oracle): fixed and seeded random
/// problems, forward and every gradient, subsets of the gradients, non-finite pixels.</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class DeformConv2dBackendTests
{
    // The CPU fast path sums the same products in another order (chunked GEMM, per-corner channel sums
    // combined afterwards, fused multiply-adds): a few ulps per term over at most ~10³ terms. A device adds
    // in the orders of its GEMM tiles, atomics and the sum of the loss; its deterministic fixed-point
    // scatter keeps 2^-62 of its bound. Float: a few float ulps of the largest value.
    private static readonly Tolerance VsReference = new(CpuFloat: 1e-4, CpuDouble: 1e-12, DeviceFloat: 1e-4, DeviceDouble: 1e-10);

    // A finite output of the same sums in double, element by element.
    private const double FiniteOutputTolerance = 1e-12;

    private const int RandomConfigurations = 60;

    // Each device run is a few dozen kernel launches (about a millisecond each on ILGPU's CPU accelerator):
    // the fixed cases and the first random ones keep the device rows to seconds.
    private const int DeviceRandomConfigurations = 12;

    public static IEnumerable<object[]> Runs =>
        from backend in TestBackends.Candidates
        from name in DeformConv2dCase.Fixed.Select(c => c.Name).Concat(Enumerable
            .Range(0, TestBackends.IsCpu(backend) ? RandomConfigurations : DeviceRandomConfigurations).Select(s => $"seed {s}"))
        select new object[] { backend, name };

    public static IEnumerable<object[]> Candidates => TestBackends.CandidateRows;

    public static IEnumerable<object[]> SubsetRows => TestBackends.Cross(TestBackends.Candidates, new object[][]
    {
        [true, false, false, false, false], // input only
        [false, true, false, false, false], // offset only
        [false, false, true, false, false], // weight only
        [false, false, false, false, true], // mask only
        [true, false, true, true, false], // input, weight, bias
        [false, true, false, false, true], // offset and mask
    });

    [TestMethod]
    public void RandomConfigurations_CpuFastHasAtLeastFifty()
    {
        Assert.IsGreaterThanOrEqualTo(50, Runs.Count(r => (string)r[0] == TestBackends.CpuFast && ((string)r[1]).StartsWith("seed ")));
    }

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void DeformConv2d_Float_MatchesReferenceForwardAndEveryGradient(string backend, string caseName) =>
        Check<float>(backend, DeformConv2dCase.Named(caseName));

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void DeformConv2d_Double_MatchesReferenceForwardAndEveryGradient(string backend, string caseName) =>
        Check<double>(backend, DeformConv2dCase.Named(caseName));

    [TestMethod]
    [DynamicData(nameof(SubsetRows))]
    public void DeformConv2d_SubsetOfGradients_MatchesReference(string backend, bool input, bool offset, bool weight, bool bias, bool mask)
    {
        bool[] requires = [input, offset, weight, bias, mask];
        foreach (int seed in new[] { 1, 4, 10, 23 })
            Check<double>(backend, DeformConv2dCase.Random(seed) with { Mask = true, Bias = true }, requires);
    }

    [TestMethod]
    [DynamicData(nameof(Candidates))]
    public void DeformConv2d_NonFiniteInputPixel_ReachesOnlyTheSamplesThatReadIt(string backend)
    {
        // Samples outside the image, or whose corners miss the pixel, must stay finite as in the reference.
        var input = Tensor<double>.Randn(302, 2, 3, 6, 7);
        input[0, 1, 0, 0] = double.PositiveInfinity;
        input[1, 2, 5, 6] = double.NaN;
        var offset = Tensor<double>.Randn(303, 2, 18, 6, 7).MulScalar(3.0);
        var weight = Tensor<double>.Randn(304, 2, 3, 3, 3);
        var mask = Tensor<double>.Rand(305, 2, 9, 6, 7);
        double[] Forward(string name)
        {
            using var target = TestBackends.Open<double>(name);
            return Functional.DeformConv2d(target.On(input), target.On(offset), target.On(weight), null, (1, 1), (1, 1), (1, 1),
                target.On(mask)).ToArray();
        }
        var expected = Forward(TestBackends.CpuReference);
        var actual = Forward(backend);
        Assert.IsTrue(expected.Any(double.IsFinite) && expected.Any(v => !double.IsFinite(v)), "the case should mix finite and non-finite outputs");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(double.IsFinite(expected[i]), double.IsFinite(actual[i]), $"finiteness of output {i}: {expected[i]} vs {actual[i]}");
            if (double.IsFinite(expected[i]))
                Assert.AreEqual(expected[i], actual[i], FiniteOutputTolerance * Math.Max(1, Math.Abs(expected[i])), $"output {i}");
        }
    }

    private static void Check<T>(string backend, DeformConv2dCase c, bool[]? requires = null) where T : unmanaged, IFloatingPointIeee754<T> =>
        BackendRuns.MatchesReference(backend, c.Function<T>(), c.Inputs<T>(), VsReference, c.ToString(), c.UpstreamSeed, c.Names, requires);
}

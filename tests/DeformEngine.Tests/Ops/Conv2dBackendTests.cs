using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>Conv2d on every backend against the CPU reference (the oracle): fixed and seeded random
/// problems, forward and every gradient, and subsets of the gradients.</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class Conv2dBackendTests
{
    // The CPU fast path (chunked im2col + GEMM, pointwise shortcut) sums the same products in another
    // order: a few ulps per term. A device's dot products of ≤ 100 terms are summed in GEMM-tile order.
    private static readonly Tolerance VsReference = new(CpuFloat: 1e-4, CpuDouble: 1e-12, DeviceFloat: 1e-4, DeviceDouble: 1e-11);

    private const int RandomConfigurations = 60;

    // Each device run is a dozen kernel launches (about a millisecond each on ILGPU's CPU accelerator): the
    // fixed cases and the first random ones keep the device rows to seconds.
    private const int DeviceRandomConfigurations = 12;

    public static IEnumerable<object[]> Runs =>
        from backend in TestBackends.Candidates
        from name in Conv2dCase.Fixed.Select(c => c.Name).Concat(Enumerable
            .Range(0, TestBackends.IsCpu(backend) ? RandomConfigurations : DeviceRandomConfigurations).Select(s => $"seed {s}"))
        select new object[] { backend, name };

    public static IEnumerable<object[]> SubsetRows => TestBackends.Cross(TestBackends.Candidates, new object[][]
    {
        [true, false, false], // input only
        [false, true, false], // weight only
        [false, false, true], // bias only
        [true, true, false], // input and weight
    });

    [TestMethod]
    public void RandomConfigurations_CpuFastHasAtLeastFifty()
    {
        Assert.IsGreaterThanOrEqualTo(50, Runs.Count(r => (string)r[0] == TestBackends.CpuFast && ((string)r[1]).StartsWith("seed ")));
    }

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void Conv2d_Float_MatchesReferenceForwardAndEveryGradient(string backend, string caseName) =>
        Check<float>(backend, Conv2dCase.Named(caseName));

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void Conv2d_Double_MatchesReferenceForwardAndEveryGradient(string backend, string caseName) =>
        Check<double>(backend, Conv2dCase.Named(caseName));

    [TestMethod]
    [DynamicData(nameof(SubsetRows))]
    public void Conv2d_SubsetOfGradients_MatchesReference(string backend, bool input, bool weight, bool bias)
    {
        bool[] requires = [input, weight, bias];
        foreach (int seed in new[] { 1, 3, 4, 10 })
            Check<double>(backend, Conv2dCase.Random(seed) with { Bias = true }, requires);
    }

    private static void Check<T>(string backend, Conv2dCase c, bool[]? requires = null) where T : unmanaged, IFloatingPointIeee754<T> =>
        BackendRuns.MatchesReference(backend, c.Function<T>(), c.Inputs<T>(), VsReference, c.ToString(), c.UpstreamSeed, c.Names, requires);
}

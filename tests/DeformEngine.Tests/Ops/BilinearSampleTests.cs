using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>BilinearSample against torchvision, hand values, finite differences and the CPU reference, on every backend.</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class BilinearSampleTests
{
    // Golden data in double: the same corner formula; only the order of the channel sums and of the
    // scatter into the input gradient differs.
    private const double DoubleTolerance = 1e-12;

    // Channel sums of a handful of float products; a device scatters ≤ P terms per cell in another order.
    private static readonly Tolerance VsReference = new(CpuFloat: 1e-4, CpuDouble: 1e-11, DeviceFloat: 1e-4, DeviceDouble: 1e-11);

    public static IEnumerable<object[]> Backends => TestBackends.All;

    public static IEnumerable<object[]> GoldenRows =>
        TestBackends.Cross(TestBackends.Names, GoldenCase.All("bilinear_sample").Select(c => c.Name));

    [TestMethod]
    [DynamicData(nameof(GoldenRows))]
    public void BilinearSample_Golden_MatchesTorchvision(string backend, string name)
    {
        using var target = TestBackends.Open<double>(backend);
        var golden = GoldenCase.All("bilinear_sample").Single(c => c.Name == name);
        var input = golden.Load<double>("input");
        var coords = golden.Load<double>("coords");
        input.RequiresGrad = true;
        coords.RequiresGrad = true;
        var output = Functional.BilinearSample(target.On(input), target.On(coords));
        output.Backward(target.On(golden.Load<double>("grad_output")));
        TensorAssert.Close(golden.Load<double>("output"), output, DoubleTolerance, "output");
        TensorAssert.Close(golden.Load<double>("grad_input"), input.Grad!, DoubleTolerance, "grad_input");
        TensorAssert.Close(golden.Load<double>("grad_coords"), coords.Grad!, DoubleTolerance, "grad_coords");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BilinearSample_HandComputed_MatchesCornerFormula(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // 2×2 image [[1, 2], [3, 4]] sampled at (0.25, 0.5): g_lt = 0.75·0.5, g_rt = 0.75·0.5,
        // g_lb = 0.25·0.5, g_rb = 0.25·0.5 → 0.375 + 0.75 + 0.375 + 0.5 = 2.0.
        var input = Tensor<double>.FromArray([1, 2, 3, 4], 1, 1, 2, 2);
        var coords = Tensor<double>.FromArray([0.25, 0.5], 1, 1, 2);
        Assert.AreEqual(2.0, Functional.BilinearSample(target.On(input), target.On(coords)).To(Device.Cpu)[0, 0, 0], 1e-15);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BilinearSample_PointAcrossBorder_ReadsOnlyInsideCorners(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // At (−0.5, 0): the top row is outside, only q_lb (value 1) counts with g_lb = 0.5.
        var input = Tensor<double>.FromArray([1, 2, 3, 4], 1, 1, 2, 2);
        var coords = Tensor<double>.FromArray([-0.5, 0, -1, 0, 2, 0.5], 1, 3, 2);
        var output = Functional.BilinearSample(target.On(input), target.On(coords)).To(Device.Cpu);
        Assert.AreEqual(0.5, output[0, 0, 0], 1e-15);
        Assert.AreEqual(0.0, output[0, 0, 1], "y = −1 is outside the open interval (−1, H)");
        Assert.AreEqual(0.0, output[0, 0, 2], "y = H is outside");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BilinearSample_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(1, 2, 3, 5, 4);
        var coords = GradCheck.KeepOffIntegers(Tensor<double>.Rand(2, 2, 7, 2).MulScalar(7).AddScalar(-1.5));
        var result = GradCheck.Check(target.Run<double>(t => Functional.BilinearSample(t[0], t[1])), [input, coords], names: ["input", "coords"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BilinearSample_NonFiniteCoordinates_ReadZeroWithZeroGradient(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(3, 1, 2, 4, 4);
        input.RequiresGrad = true;
        var coords = Tensor<double>.FromArray([double.NaN, 1, 1, double.PositiveInfinity, double.NegativeInfinity, 0, 1e6, 1e6], 1, 4, 2);
        coords.RequiresGrad = true;
        var output = Functional.BilinearSample(target.On(input), target.On(coords));
        TensorAssert.AllEqual(output, 0.0, "output");
        output.Sum().Backward();
        TensorAssert.AllEqual(input.Grad!, 0.0, "grad input");
        TensorAssert.AllEqual(coords.Grad!, 0.0, "grad coords");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BilinearSample_CoordsOfWrongShape_ThrowsNamingCoords(string backend)
    {
        using var target = TestBackends.Open(backend);
        var input = target.On(Tensor<double>.Zeros(2, 1, 4, 4));
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Functional.BilinearSample(input, target.On(Tensor<double>.Zeros(2, 3, 3))));
        Assert.AreEqual("coords", ex.ParamName);
        StringAssert.Contains(ex.Message, "[2, 3, 2]");
        StringAssert.Contains(ex.Message, "[2, 3, 3]");
    }

    /// <summary>A sampling problem: coordinates spread over (−Spread·H/2 … (1 + Spread/2)·H) so that some
    /// points fall outside; NonFinite puts NaN and ±∞ among them.</summary>
    public sealed record Case(string Name, int N, int C, int H, int W, int P, double Spread, bool NonFinite = false)
    {
        public override string ToString() => Name;

        public Tensor<T>[] Inputs<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var input = Tensor<T>.Randn(51, N, C, H, W);
            var unit = Tensor<double>.Rand(52, N, P, 2).ToArray();
            var coords = new T[unit.Length];
            for (int i = 0; i < unit.Length; i++)
            {
                int size = i % 2 == 0 ? H : W;
                coords[i] = T.CreateChecked((unit[i] * (1 + Spread) - Spread / 2) * size - 0.5);
            }
            if (NonFinite)
            {
                coords[0] = T.NaN;
                coords[3] = T.PositiveInfinity;
                coords[6] = T.NegativeInfinity;
            }
            return [input, Tensor<T>.FromArray(coords, N, P, 2)];
        }
    }

    public static readonly Case[] Cases =
    [
        new("inside", 2, 3, 6, 5, 40, 1.0),
        new("odd_border_straddle", 3, 1, 7, 3, 33, 1.4),
        new("far_outside", 1, 2, 4, 4, 30, 3.0),
        new("batch33", 33, 2, 3, 5, 9, 1.2),
        new("crowded", 1, 2, 2, 2, 200, 1.0),
        new("non_finite", 2, 2, 5, 5, 12, 1.0, NonFinite: true),
    ];

    public static readonly string[] Names = ["output", "grad input", "grad coords"];

    public static Func<Tensor<T>[], Tensor<T>> Function<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
        x => Functional.BilinearSample(x[0], x[1]);

    public static IEnumerable<object[]> ReferenceRows => TestBackends.Cross(TestBackends.Candidates, Cases.Select(c => c.Name));

    [TestMethod]
    [DynamicData(nameof(ReferenceRows))]
    public void BilinearSample_Float_MatchesReferenceForwardAndBothGradients(string backend, string caseName) =>
        Check<float>(backend, Cases.Single(c => c.Name == caseName));

    [TestMethod]
    [DynamicData(nameof(ReferenceRows))]
    public void BilinearSample_Double_MatchesReferenceForwardAndBothGradients(string backend, string caseName) =>
        Check<double>(backend, Cases.Single(c => c.Name == caseName));

    private static void Check<T>(string backend, Case c) where T : unmanaged, IFloatingPointIeee754<T> =>
        BackendRuns.MatchesReference(backend, Function<T>(), c.Inputs<T>(), VsReference, c.Name, seed: 53, Names);
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

[TestClass]
public class BilinearSampleTests
{
    private const double DoubleTolerance = 1e-12;

    public static IEnumerable<object[]> Cases => GoldenCase.All("bilinear_sample").Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void BilinearSample_Golden_MatchesTorchvision(string name)
    {
        var golden = GoldenCase.All("bilinear_sample").Single(c => c.Name == name);
        var input = golden.Load<double>("input");
        var coords = golden.Load<double>("coords");
        input.RequiresGrad = true;
        coords.RequiresGrad = true;
        var output = Functional.BilinearSample(input, coords);
        output.Backward(golden.Load<double>("grad_output"));
        TensorAssert.Close(golden.Load<double>("output"), output, DoubleTolerance, "output");
        TensorAssert.Close(golden.Load<double>("grad_input"), input.Grad!, DoubleTolerance, "grad_input");
        TensorAssert.Close(golden.Load<double>("grad_coords"), coords.Grad!, DoubleTolerance, "grad_coords");
    }

    [TestMethod]
    public void BilinearSample_HandComputed_MatchesCornerFormula()
    {
        // 2×2 image [[1, 2], [3, 4]] sampled at (0.25, 0.5): g_lt = 0.75·0.5, g_rt = 0.75·0.5,
        // g_lb = 0.25·0.5, g_rb = 0.25·0.5 → 0.375 + 0.75 + 0.375 + 0.5 = 2.0.
        var input = Tensor<double>.FromArray([1, 2, 3, 4], 1, 1, 2, 2);
        var coords = Tensor<double>.FromArray([0.25, 0.5], 1, 1, 2);
        Assert.AreEqual(2.0, Functional.BilinearSample(input, coords)[0, 0, 0], 1e-15);
    }

    [TestMethod]
    public void BilinearSample_PointAcrossBorder_ReadsOnlyInsideCorners()
    {
        // At (−0.5, 0): the top row is outside, only q_lb (value 1) counts with g_lb = 0.5.
        var input = Tensor<double>.FromArray([1, 2, 3, 4], 1, 1, 2, 2);
        var coords = Tensor<double>.FromArray([-0.5, 0, -1, 0, 2, 0.5], 1, 3, 2);
        var output = Functional.BilinearSample(input, coords);
        Assert.AreEqual(0.5, output[0, 0, 0], 1e-15);
        Assert.AreEqual(0.0, output[0, 0, 1], "y = −1 is outside the open interval (−1, H)");
        Assert.AreEqual(0.0, output[0, 0, 2], "y = H is outside");
    }

    [TestMethod]
    public void BilinearSample_GradCheck_Passes()
    {
        var input = Tensor<double>.Randn(1, 2, 3, 5, 4);
        var coords = GradCheck.KeepOffIntegers(Tensor<double>.Rand(2, 2, 7, 2).MulScalar(7).AddScalar(-1.5));
        var result = GradCheck.Check(t => Functional.BilinearSample(t[0], t[1]), [input, coords], names: ["input", "coords"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    public void BilinearSample_NonFiniteCoordinates_ReadZeroWithZeroGradient()
    {
        var input = Tensor<double>.Randn(3, 1, 2, 4, 4);
        input.RequiresGrad = true;
        var coords = Tensor<double>.FromArray([double.NaN, 1, 1, double.PositiveInfinity, double.NegativeInfinity, 0, 1e6, 1e6], 1, 4, 2);
        coords.RequiresGrad = true;
        var output = Functional.BilinearSample(input, coords);
        TensorAssert.AllEqual(output, 0.0, "output");
        output.Sum().Backward();
        TensorAssert.AllEqual(input.Grad!, 0.0, "grad input");
        TensorAssert.AllEqual(coords.Grad!, 0.0, "grad coords");
    }

    [TestMethod]
    public void BilinearSample_CoordsOfWrongShape_ThrowsNamingCoords()
    {
        var input = Tensor<double>.Zeros(2, 1, 4, 4);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Functional.BilinearSample(input, Tensor<double>.Zeros(2, 3, 3)));
        Assert.AreEqual("coords", ex.ParamName);
        StringAssert.Contains(ex.Message, "[2, 3, 2]");
        StringAssert.Contains(ex.Message, "[2, 3, 3]");
    }
}

using DeformEngine.Kernels;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>LayerNorm (last dimension) and the exact GELU: torch 1.13 golden data
/// (tests/golden/make_golden_dcnv3.py), finite differences, closed forms and bad input.</summary>
[TestClass]
public class LayerNormGeluTests
{
    // Double: the same sums as torch in another order; the large-mean case (1e3 ± 1e-2) loses five digits to
    // x − μ in both computations, so its two answers agree to about 1e-11.
    private const double DoubleTolerance = 1e-9;
    // GELU goes through our erf (about 1e-15 relative) against the C library's.
    private const double GeluTolerance = 1e-13;
    // Float: inputs and sums rounded to float32.
    private const double FloatTolerance = 1e-5;
    // Against the C library's erf and erfc: our series rounds over about 40 positive terms.
    private const double ErfTolerance = 1e-15;

    public static IEnumerable<object[]> LayerNormCases => GoldenCase.All("layer_norm").Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(LayerNormCases))]
    public void LayerNorm_GoldenDouble_MatchesTorch(string name) => RunLayerNorm<double>(name, t => t, DoubleTolerance);

    [TestMethod]
    [DynamicData(nameof(LayerNormCases))]
    public void LayerNorm_GoldenFloat_MatchesTorch(string name)
    {
        // The large-mean case loses its spread to float32 rounding of the inputs (1e3 ± 1e-2): no float check there.
        if (name == "large_mean_small_spread") return;
        RunLayerNorm<float>(name, TensorAssert.ToFloat, FloatTolerance);
    }

    private static void RunLayerNorm<T>(string name, Func<Tensor<double>, Tensor<T>> convert, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var golden = GoldenCase.All("layer_norm").Single(c => c.Name == name);
        Tensor<T> Leaf(string array)
        {
            var t = convert(golden.Load<double>(array));
            t.RequiresGrad = true;
            return t;
        }
        var input = Leaf("input");
        var weight = Leaf("weight");
        var bias = Leaf("bias");
        var output = Functional.LayerNorm(input, weight, bias, golden.Params.GetProperty("eps").GetDouble());
        output.Backward(convert(golden.Load<double>("grad_output")));
        TensorAssert.Close(convert(golden.Load<double>("output")), output, tolerance, $"{name}: output");
        TensorAssert.Close(convert(golden.Load<double>("grad_input")), input.Grad!, tolerance, $"{name}: grad_input");
        TensorAssert.Close(convert(golden.Load<double>("grad_weight")), weight.Grad!, tolerance, $"{name}: grad_weight");
        TensorAssert.Close(convert(golden.Load<double>("grad_bias")), bias.Grad!, tolerance, $"{name}: grad_bias");
    }

    [TestMethod]
    public void Gelu_GoldenDouble_MatchesTorch()
    {
        var golden = GoldenCase.All("gelu").Single();
        var input = golden.Load<double>("input");
        input.RequiresGrad = true;
        var output = Functional.Gelu(input);
        output.Backward(golden.Load<double>("grad_output"));
        TensorAssert.Close(golden.Load<double>("output"), output, GeluTolerance, "output");
        TensorAssert.Close(golden.Load<double>("grad_input"), input.Grad!, GeluTolerance, "grad_input");
    }

    [TestMethod]
    public void Gelu_GoldenFloat_MatchesTorch()
    {
        var golden = GoldenCase.All("gelu").Single();
        var input = TensorAssert.ToFloat(golden.Load<double>("input"));
        input.RequiresGrad = true;
        var output = Functional.Gelu(input);
        output.Backward(TensorAssert.ToFloat(golden.Load<double>("grad_output")));
        TensorAssert.Close(TensorAssert.ToFloat(golden.Load<double>("output")), output, FloatTolerance, "output");
        TensorAssert.Close(TensorAssert.ToFloat(golden.Load<double>("grad_input")), input.Grad!, FloatTolerance, "grad_input");
    }

    [TestMethod]
    [DataRow(0.5, 0.5204998778130465, 0.4795001221869535)]
    [DataRow(1.0, 0.8427007929497149, 0.15729920705028513)]
    [DataRow(2.0, 0.9953222650189527, 0.004677734981047265)]
    [DataRow(3.0, 0.9999779095030014, 2.2090496998585438e-05)]
    [DataRow(5.0, 0.9999999999984626, 1.5374597944280351e-12)]
    public void Erf_CLibraryValues_MatchToRounding(double x, double erf, double erfc)
    {
        Assert.AreEqual(erf, GaussianFunctions.Erf(x), ErfTolerance * erf, "erf");
        Assert.AreEqual(-erf, GaussianFunctions.Erf(-x), ErfTolerance * erf, "erf(−x)");
        Assert.AreEqual(erfc, GaussianFunctions.Erfc(x), 100 * ErfTolerance * erfc, "erfc (relative; 1 − erf loses digits below 2)");
        Assert.AreEqual(2 - erfc, GaussianFunctions.Erfc(-x), ErfTolerance * 2, "erfc(−x)");
    }

    [TestMethod]
    public void Gelu_SpecialValues_FollowTheLimits()
    {
        var output = Functional.Gelu(Tensor<double>.FromArray([0, double.PositiveInfinity, double.NegativeInfinity, -100, 100, double.NaN], 6)).ToArray();
        Assert.AreEqual(0, output[0]);
        Assert.AreEqual(double.PositiveInfinity, output[1]);
        Assert.IsTrue(double.IsNaN(output[2]), "−∞·0 is NaN, as torch");
        Assert.AreEqual(0, output[3]);
        Assert.AreEqual(100, output[4]);
        Assert.IsTrue(double.IsNaN(output[5]));
    }

    [TestMethod]
    public void Gelu_GradCheck_Passes()
    {
        var result = GradCheck.Check(t => Functional.Gelu(t[0]), [Tensor<double>.Randn(11, 3, 7).MulScalar(3.0)], names: ["input"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    [DataRow(true, true)]
    [DataRow(false, false)]
    [DataRow(true, false)]
    public void LayerNorm_GradCheck_PassesForEveryInput(bool useWeight, bool useBias)
    {
        var inputs = new List<Tensor<double>> { Tensor<double>.Randn(12, 2, 3, 6) };
        if (useWeight) inputs.Add(Tensor<double>.Randn(13, 6));
        if (useBias) inputs.Add(Tensor<double>.Randn(14, 6));
        var result = GradCheck.Check(t => Functional.LayerNorm(t[0], useWeight ? t[1] : null, useBias ? t[^1] : null, 1e-6), inputs.ToArray());
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    public void LayerNorm_WithoutAffine_RowsHaveZeroMeanUnitVariance()
    {
        var output = Functional.LayerNorm(Tensor<double>.Randn(15, 4, 10).MulScalar(5.0).AddScalar(3.0), eps: 0).ToArray();
        for (int r = 0; r < 4; r++)
        {
            var row = output.AsSpan(r * 10, 10).ToArray();
            double mean = row.Average();
            Assert.AreEqual(0, mean, 1e-15, $"row {r} mean");
            Assert.AreEqual(1, row.Select(v => (v - mean) * (v - mean)).Average(), 1e-14, $"row {r} variance");
        }
    }

    [TestMethod]
    public void LayerNorm_WeightWrongLength_ThrowsNamingWeight()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Functional.LayerNorm(Tensor<double>.Zeros(2, 5), Tensor<double>.Zeros(4)));
        Assert.AreEqual("weight", ex.ParamName);
        StringAssert.Contains(ex.Message, "[5]");
    }

    [TestMethod]
    public void LayerNorm_BiasWrongLength_ThrowsNamingBias()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Functional.LayerNorm(Tensor<double>.Zeros(2, 5), bias: Tensor<double>.Zeros(5, 1)));
        Assert.AreEqual("bias", ex.ParamName);
    }

    [TestMethod]
    public void LayerNorm_EmptyLastDimension_ThrowsNamingInput()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Functional.LayerNorm(Tensor<double>.Zeros(2, 0)));
        Assert.AreEqual("input", ex.ParamName);
        StringAssert.Contains(ex.Message, "[2, 0]");
    }

    [TestMethod]
    public void LayerNorm_NegativeEps_ThrowsOutOfRangeNamingEps()
    {
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Functional.LayerNorm(Tensor<double>.Zeros(2, 3), eps: -1));
        Assert.AreEqual("eps", ex.ParamName);
    }
}

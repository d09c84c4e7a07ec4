using DeformEngine.Explain;

namespace DeformEngine.Tests.Explain;

[TestClass]
public class DeformConvExplainerTests
{
    // The explainer and the engine add the same products in a different order, in double.
    private const double SameSumTolerance = 1e-12;
    // Central differences (eps 1e-6) of a function linear in each coordinate between kinks: no
    // truncation error, only rounding, ~1e-16·|out|/eps ≈ 1e-10.
    private const double FiniteDifferenceTolerance = 1e-7;
    // float engine vs double explainer: float rounding of sums of a few dozen O(1) terms.
    private const double FloatTolerance = 1e-4;

    public static IEnumerable<object[]> Seeds => ExplainCases.Seeds;

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Explain_RandomConfiguration_CornerSumsEqualEngineGradients(int seed)
    {
        var c = ExplainCases.Random(seed);
        foreach (var unit in c.Units)
        {
            var explanation = DeformConvExplainer.Explain(c.Call, unit);
            var agreement = DeformConvExplainer.CompareWithEngine(c.Call, explanation);
            Assert.IsLessThanOrEqualTo(SameSumTolerance, agreement.OffsetError, $"{c.Name}, unit {unit}: offset gradient");
            Assert.IsLessThanOrEqualTo(SameSumTolerance, agreement.OutputError, $"{c.Name}, unit {unit}: output");
            if (c.Call.Mask is not null)
                Assert.IsLessThanOrEqualTo(SameSumTolerance, agreement.MaskError!.Value, $"{c.Name}, unit {unit}: mask gradient");
            foreach (var p in explanation.Points.Where(p => p.Inside))
            {
                Assert.AreEqual(p.GradDy, p.Corners.Sum(q => q.ContributionDy), SameSumTolerance, "GradDy is the sum of the corner terms");
                Assert.AreEqual(p.GradDx, p.Corners.Sum(q => q.ContributionDx), SameSumTolerance, "GradDx is the sum of the corner terms");
                Assert.AreEqual(1.0, p.Corners.Sum(q => q.Coefficient), SameSumTolerance, "the coefficients sum to 1");
            }
        }
    }

    [TestMethod]
    public void Explain_RandomConfigurations_CoverBorderAndOutsidePoints()
    {
        // The agreement above means little unless the cases reach the border band (a corner outside
        // the image) and beyond (the point itself outside): count both.
        int partial = 0, outside = 0;
        foreach (var seed in ExplainCases.Seeds.Select(s => (int)s[0]))
        {
            var c = ExplainCases.Random(seed);
            foreach (var unit in c.Units)
                foreach (var p in DeformConvExplainer.Explain(c.Call, unit).Points)
                {
                    if (!p.Inside) outside++;
                    else if (p.Corners.Any(q => !q.InImage)) partial++;
                }
        }
        Assert.IsGreaterThanOrEqualTo(20, partial, "points with a corner outside the image");
        Assert.IsGreaterThanOrEqualTo(20, outside, "points outside (−1, H) × (−1, W)");
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Explain_RandomConfiguration_MatchesFiniteDifferences(int seed)
    {
        var c = ExplainCases.Random(seed);
        var unit = c.Units[0];
        var explanation = DeformConvExplainer.Explain(c.Call, unit);
        var numeric = DeformConvExplainer.FiniteDifferences(c.Call, unit);
        Assert.HasCount(explanation.Points.Count, numeric);
        for (int n = 0; n < numeric.Count; n++)
        {
            var p = explanation.Points[n];
            string where = $"{c.Name}, unit {unit}, point ({p.KernelRow},{p.KernelColumn}) group {p.OffsetGroup}";
            Assert.AreEqual(numeric[n].Dy, p.GradDy, FiniteDifferenceTolerance, $"{where}: ∂out/∂Δy");
            Assert.AreEqual(numeric[n].Dx, p.GradDx, FiniteDifferenceTolerance, $"{where}: ∂out/∂Δx");
            if (p.GradMask is { } gradMask) Assert.AreEqual(numeric[n].Mask!.Value, gradMask, FiniteDifferenceTolerance, $"{where}: ∂out/∂m");
        }
    }

    [TestMethod]
    public void Explain_HandPlacedPoints_GiveTheTutorialFormulas()
    {
        // One channel 3×4, a 1×1 kernel of weight 2, mask 0.5, stride (3, 4) so that the output is
        // the single unit (0,0,0,0), which samples at the offset itself.
        var input = Tensor<double>.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 1, 1, 3, 4);
        var weight = Tensor<double>.FromArray([2.0], 1, 1, 1, 1);
        var mask = Tensor<double>.FromArray([0.5], 1, 1, 1, 1);
        var call = new DeformConvCall<double>(input, Tensor<double>.FromArray([1.25, 1.5], 1, 2, 1, 1), weight, Stride: (3, 4), Mask: mask);
        var p = DeformConvExplainer.Explain(call, new OutputUnit(0, 0, 0, 0)).Points.Single();

        // p = (1.25, 1.5): lt = (1,1) = 6, rt = 7, lb = 10, rb = 11; ly = 0.25, lx = 0.5.
        Assert.AreEqual(0.25, p.Ly, 1e-15);
        Assert.AreEqual(0.5, p.Lx, 1e-15);
        CollectionAssert.AreEqual(new[] { 6.0, 7.0, 10.0, 11.0 }, p.Corners.Select(q => q.Values[0]).ToArray());
        CollectionAssert.AreEqual(new[] { 0.375, 0.375, 0.125, 0.125 }, p.Corners.Select(q => q.Coefficient).ToArray());
        // ∂g/∂p_y = −(1−lx), −lx, 1−lx, lx; contributions m·(∂g/∂p_y)·w·v.
        CollectionAssert.AreEqual(new[] { -0.5, -0.5, 0.5, 0.5 }, p.Corners.Select(q => q.CoefficientDy).ToArray());
        CollectionAssert.AreEqual(new[] { -3.0, -3.5, 5.0, 5.5 }, p.Corners.Select(q => q.ContributionDy).ToArray());
        Assert.AreEqual(4.0, p.GradDy, 1e-15, "0.5·2·(row below − row above) = 4");
        Assert.AreEqual(1.0, p.GradDx, 1e-15, "0.5·2·(column right − column left) = 1");
        Assert.AreEqual(15.0, p.GradMask!.Value, 1e-15, "∂out/∂m = w·sample = 2·7.5");
    }

    [TestMethod]
    [DataRow(-0.4, 1.5, false, false, true, true, DisplayName = "top band: lt and rt outside")]
    [DataRow(2.3, 3.6, true, false, false, false, DisplayName = "bottom-right band: only lt inside")]
    [DataRow(1.2, -0.7, false, true, false, true, DisplayName = "left band: lt and lb outside")]
    public void Explain_BorderBand_CornersOutsideReadZeroAndMatchEngine(double y, double x, bool lt, bool rt, bool lb, bool rb)
    {
        var call = new DeformConvCall<double>(Tensor<double>.Randn(5, 1, 2, 3, 4), Tensor<double>.FromArray([y, x], 1, 2, 1, 1),
            Tensor<double>.Randn(6, 1, 2, 1, 1), Stride: (3, 4));
        var explanation = DeformConvExplainer.Explain(call, new OutputUnit(0, 0, 0, 0));
        var p = explanation.Points.Single();
        Assert.IsTrue(p.Inside);
        CollectionAssert.AreEqual(new[] { lt, rt, lb, rb }, p.Corners.Select(q => q.InImage).ToArray(), "which corners are in the image");
        foreach (var q in p.Corners.Where(q => !q.InImage))
        {
            CollectionAssert.AreEqual(new[] { 0.0, 0.0 }, q.Values, $"{q.Corner} reads 0");
            Assert.AreEqual(0.0, q.ContributionDy, $"{q.Corner} contributes nothing to ∂out/∂Δy");
        }
        Assert.IsLessThanOrEqualTo(SameSumTolerance, DeformConvExplainer.CompareWithEngine(call, explanation).MaxError);
    }

    [TestMethod]
    public void Explain_PointOnEdgeMinusOne_ReadsZeroWithTorchvisionSlope()
    {
        // p = (−1, 1.5): the sample is 0, the slope in y is torchvision's from the inside,
        // m·((1 − lx)·v[0, 1] + lx·v[0, 2]); in x the row −1 reads 0 on both sides.
        var input = Tensor<double>.Randn(7, 1, 1, 3, 4);
        var call = new DeformConvCall<double>(input, Tensor<double>.FromArray([-1.0, 1.5], 1, 2, 1, 1),
            Tensor<double>.Ones(1, 1, 1, 1), Stride: (3, 4), Mask: Tensor<double>.Full(0.7, 1, 1, 1, 1));
        var explanation = DeformConvExplainer.Explain(call, new OutputUnit(0, 0, 0, 0));
        var p = explanation.Points.Single();
        Assert.IsTrue(p.Inside, "on the edge the point keeps its corners");
        Assert.AreEqual(0.0, p.Sample);
        Assert.AreEqual(0.7 * (0.5 * input[0, 0, 0, 1] + 0.5 * input[0, 0, 0, 2]), p.GradDy, 1e-15);
        Assert.AreEqual(0.0, p.GradDx);
        Assert.AreEqual(0.0, p.GradMask!.Value);
        Assert.AreEqual(0.0, explanation.Output);
        Assert.IsLessThanOrEqualTo(1e-15, DeformConvExplainer.CompareWithEngine(call, explanation).MaxError);
    }

    [TestMethod]
    [DataRow(-1.3, 1.5, DisplayName = "y < −1")]
    [DataRow(1.5, -1.01, DisplayName = "x < −1")]
    [DataRow(1.5, 4.0, DisplayName = "x = W")]
    [DataRow(double.NaN, 1.0, DisplayName = "NaN")]
    public void Explain_OutsidePoint_HasNoCornersAndZeroGradient(double y, double x)
    {
        var call = new DeformConvCall<double>(Tensor<double>.Randn(7, 1, 1, 3, 4), Tensor<double>.FromArray([y, x], 1, 2, 1, 1),
            Tensor<double>.Ones(1, 1, 1, 1), Stride: (3, 4), Mask: Tensor<double>.Full(0.7, 1, 1, 1, 1));
        var explanation = DeformConvExplainer.Explain(call, new OutputUnit(0, 0, 0, 0));
        var p = explanation.Points.Single();
        Assert.IsFalse(p.Inside);
        Assert.IsEmpty(p.Corners);
        Assert.AreEqual(0.0, p.GradDy);
        Assert.AreEqual(0.0, p.GradDx);
        Assert.AreEqual(0.0, p.GradMask!.Value);
        Assert.AreEqual(0.0, explanation.Output);
        Assert.AreEqual(0.0, DeformConvExplainer.CompareWithEngine(call, explanation).MaxError);
    }

    [TestMethod]
    public void Explain_FloatCall_AgreesWithFloatEngine()
    {
        var c = ExplainCases.Random(3);
        var call = new DeformConvCall<float>(ToFloat(c.Call.Input), ToFloat(c.Call.Offset), ToFloat(c.Call.Weight),
            c.Call.Bias is null ? null : ToFloat(c.Call.Bias), c.Call.Stride, c.Call.Padding, c.Call.Dilation,
            c.Call.Mask is null ? null : ToFloat(c.Call.Mask));
        var agreement = DeformConvExplainer.CompareWithEngine(call, DeformConvExplainer.Explain(call, c.Units[0]));
        Assert.IsLessThanOrEqualTo(FloatTolerance, agreement.MaxError);
    }

    [TestMethod]
    public void Explain_UnitOutsideOutput_ThrowsNamingTheUnit()
    {
        var c = ExplainCases.Random(1);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => DeformConvExplainer.Explain(c.Call, new OutputUnit(0, 0, 99, 0)));
        Assert.AreEqual("unit", error.ParamName);
        StringAssert.Contains(error.Message, "y=99");
    }

    [TestMethod]
    public void Explain_BadOffsetShape_ThrowsLikeTheEngine()
    {
        var call = new DeformConvCall<double>(Tensor<double>.Zeros(1, 1, 4, 4), Tensor<double>.Zeros(1, 3, 2, 2), Tensor<double>.Zeros(1, 1, 3, 3));
        var error = Assert.ThrowsExactly<ArgumentException>(() => DeformConvExplainer.Explain(call, new OutputUnit(0, 0, 0, 0)));
        Assert.AreEqual("offset", error.ParamName);
    }

    private static Tensor<float> ToFloat(Tensor<double> t) => Tensor<float>.FromArray(t.ToArray().Select(v => (float)v).ToArray(), t.Shape);
}

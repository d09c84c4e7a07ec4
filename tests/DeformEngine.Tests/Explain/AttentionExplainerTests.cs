using DeformEngine.Explain;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Explain;

[TestClass]
public class AttentionExplainerTests
{
    // The explainer and the engine add the same products in a different order, in double.
    private const double SameSumTolerance = 1e-12;
    // Central differences (eps 1e-6) of a function linear in each coordinate between kinks: rounding only,
    // ~1e-16·|out|/eps, times the level size W_l ≤ 6 in the chain.
    private const double FiniteDifferenceTolerance = 1e-7;

    public static IEnumerable<object[]> Seeds => AttentionExplainCases.Seeds;

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Explain_RandomConfiguration_CornerSumsEqualEngineGradients(int seed)
    {
        var c = AttentionExplainCases.Random(seed);
        foreach (var unit in c.Units)
        {
            var explanation = AttentionExplainer.Explain(c.Call, unit);
            var agreement = AttentionExplainer.CompareWithEngine(c.Call, explanation);
            Assert.IsLessThanOrEqualTo(SameSumTolerance, agreement.OutputError, $"{c.Name}, unit {unit}: output");
            Assert.IsLessThanOrEqualTo(SameSumTolerance, agreement.LocationError, $"{c.Name}, unit {unit}: location gradient");
            Assert.IsLessThanOrEqualTo(SameSumTolerance, agreement.AttentionWeightError, $"{c.Name}, unit {unit}: attention-weight gradient");
            foreach (var p in explanation.Points.Where(p => p.Inside))
            {
                Assert.AreEqual(p.GradX, p.Corners.Sum(q => q.ContributionDx), SameSumTolerance, "GradX is the sum of the corner terms");
                Assert.AreEqual(p.GradY, p.Corners.Sum(q => q.ContributionDy), SameSumTolerance, "GradY is the sum of the corner terms");
                Assert.AreEqual(1.0, p.Corners.Sum(q => q.Coefficient), SameSumTolerance, "the coefficients sum to 1");
            }
        }
    }

    [TestMethod]
    public void Explain_RandomConfigurations_CoverBorderAndOutsidePoints()
    {
        int partial = 0, outside = 0, levels = 0;
        foreach (var seed in AttentionExplainCases.Seeds.Select(s => (int)s[0]))
        {
            var c = AttentionExplainCases.Random(seed);
            levels = Math.Max(levels, c.Call.SpatialShapes.Length);
            foreach (var unit in c.Units)
                foreach (var p in AttentionExplainer.Explain(c.Call, unit).Points)
                {
                    if (!p.Inside) outside++;
                    else if (p.Corners.Any(q => !q.InMap)) partial++;
                }
        }
        Assert.IsGreaterThanOrEqualTo(20, partial, "points with a corner outside the map");
        Assert.IsGreaterThanOrEqualTo(10, outside, "points with no corner in the map");
        Assert.AreEqual(3, levels, "some case with three levels");
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Explain_RandomConfiguration_MatchesFiniteDifferences(int seed)
    {
        var c = AttentionExplainCases.Random(seed);
        var unit = c.Units[0];
        var explanation = AttentionExplainer.Explain(c.Call, unit);
        var numeric = AttentionExplainer.FiniteDifferences(c.Call, unit);
        Assert.HasCount(explanation.Points.Count, numeric);
        for (int i = 0; i < numeric.Count; i++)
        {
            var p = explanation.Points[i];
            string where = $"{c.Name}, unit {unit}, level {p.Level} point {p.Point}";
            Assert.AreEqual(numeric[i].X, p.GradX, FiniteDifferenceTolerance, $"{where}: ∂out/∂loc_x");
            Assert.AreEqual(numeric[i].Y, p.GradY, FiniteDifferenceTolerance, $"{where}: ∂out/∂loc_y");
            Assert.AreEqual(numeric[i].Attention, p.GradAttention, FiniteDifferenceTolerance, $"{where}: ∂out/∂a");
        }
    }

    [TestMethod]
    public void Explain_HandPlacedPoint_GivesTheCornerFormulas()
    {
        // One 2×4 level (value 0 … 7 row-major), one head, one channel; location (0.3125, 0.5) is pixel
        // (x, y) = (0.75, 0.5): corners lt (0, 0), rt (0, 1), lb (1, 0), rb (1, 1), lx = 0.75, ly = 0.5.
        var value = Tensor<double>.FromArray([0, 1, 2, 3, 4, 5, 6, 7], 1, 8, 1, 1);
        var call = new AttentionCall<double>(value, [(2, 4)], [0], Tensor<double>.FromArray([0.3125, 0.5], 1, 1, 1, 1, 1, 2),
            Tensor<double>.FromArray([2.0], 1, 1, 1, 1, 1));
        var point = AttentionExplainer.Explain(call, new AttentionUnit(0, 0, 0, 0)).Point(0, 0);
        Assert.AreEqual(0.75, point.PixelX);
        Assert.AreEqual(0.5, point.PixelY);
        var lt = point.Corners[0];
        Assert.AreEqual(0.5 * 0.25, lt.Coefficient, 1e-15, "g_lt = (1 − ly)(1 − lx)");
        Assert.AreEqual(-4 * 0.5, lt.CoefficientDx, 1e-15, "∂g_lt/∂loc_x = −W(1 − ly)");
        Assert.AreEqual(-2 * 0.25, lt.CoefficientDy, 1e-15, "∂g_lt/∂loc_y = −H(1 − lx)");
        // ∂out/∂loc_x = a·W·((1 − ly)(v_rt − v_lt) + ly(v_rb − v_lb)) = 2·4·(0.5·1 + 0.5·1) = 8.
        Assert.AreEqual(8.0, point.GradX, 1e-14);
        // ∂out/∂loc_y = a·H·((1 − lx)(v_lb − v_lt) + lx(v_rb − v_rt)) = 2·2·(0.25·4 + 0.75·4) = 16.
        Assert.AreEqual(16.0, point.GradY, 1e-14);
        // sample = 0.125·0 + 0.375·1 + 0.125·4 + 0.375·5 = 2.75.
        Assert.AreEqual(2.75, point.Sample, 1e-15);
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void AttentionPathAblation_RandomConfiguration_LocationGradientIsExactlyZero(int seed)
    {
        var c = AttentionExplainCases.Random(seed);
        bool realNonZero = false;
        foreach (var unit in c.Units)
        {
            var result = AttentionPathAblation.Run(c.Call, unit);
            TensorAssert.AllEqual(result.IndexOnlyGradLocations, 0.0, $"{c.Name}, unit {unit}: index-only ∂out/∂loc");
            Assert.AreEqual(result.RealOutput, result.IndexOnlyOutput, "the ablation changes the backward only");
            realNonZero |= result.RealGradLocations.ToArray().Any(v => v != 0);
        }
        Assert.IsTrue(realNonZero, $"{c.Name}: the real location gradient should not be zero for every unit");
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void AttentionPathAblation_RealGraph_MatchesEngine(int seed)
    {
        var c = AttentionExplainCases.Random(seed);
        var unit = c.Units[0];
        var result = AttentionPathAblation.Run(c.Call, unit);
        var (output, engineGrad, _) = AttentionExplainer.EngineGradients(c.Call, unit);
        int column = unit.Head * c.Call.Value.Dim(3) + unit.Channel;
        Assert.AreEqual(output[unit.N, unit.Query, column], result.RealOutput, SameSumTolerance, "out[unit]");
        TensorAssert.Close(engineGrad, result.RealGradLocations, SameSumTolerance, $"{c.Name}: real ∂out/∂loc vs engine");
    }

    [TestMethod]
    public void Explain_UnitOutsideTheOutput_ThrowsNamingUnit()
    {
        var c = AttentionExplainCases.Random(0);
        int channels = c.Call.Value.Dim(3);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => AttentionExplainer.Explain(c.Call, new AttentionUnit(0, 0, 0, channels)));
        Assert.AreEqual("unit", error.ParamName);
        StringAssert.Contains(error.Message, $"{channels} channels");
    }

    [TestMethod]
    public void AttentionPaths_NonFiniteLocation_ThrowsNamingCall()
    {
        var c = AttentionExplainCases.Random(1);
        var locations = c.Call.SamplingLocations.Clone();
        locations.AsSpan()[0] = double.NaN;
        var error = Assert.ThrowsExactly<ArgumentException>(() => AttentionPaths.Forward(c.Call with { SamplingLocations = locations },
            OffsetPath.IndicesOnly));
        Assert.AreEqual("call", error.ParamName);
    }
}

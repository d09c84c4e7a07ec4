using DeformEngine.Explain;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Explain;

[TestClass]
public class IndexPathAblationTests
{
    // The composed graph and the engine evaluate the same sums in a different order, in double.
    private const double SameSumTolerance = 1e-12;
    // Central differences (eps 1e-6) with offsets kept off integers: rounding only.
    private const double FiniteDifferenceTolerance = 1e-7;

    public static IEnumerable<object[]> Seeds => ExplainCases.Seeds;

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void IndexPathAblation_RandomConfiguration_OffsetGradientIsExactlyZero(int seed)
    {
        var c = ExplainCases.Random(seed);
        bool realNonZero = false;
        foreach (var unit in c.Units)
        {
            var result = IndexPathAblation.Run(c.Call, unit);
            TensorAssert.AllEqual(result.IndexOnlyGradOffset, 0.0, $"{c.Name}, unit {unit}: index-only ∂out/∂offset");
            Assert.AreEqual(result.RealOutput, result.IndexOnlyOutput, "the ablation changes the backward only");
            realNonZero |= result.RealGradOffset.ToArray().Any(v => v != 0);
        }
        Assert.IsTrue(realNonZero, $"{c.Name}: the real offset gradient should not be zero for every unit");
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void IndexPathAblation_RealGraph_MatchesEngineAndFiniteDifferences(int seed)
    {
        var c = ExplainCases.Random(seed);
        var unit = c.Units[0];
        var result = IndexPathAblation.Run(c.Call, unit);
        var (output, engineGradOffset, _) = DeformConvExplainer.EngineGradients(c.Call, unit);
        Assert.AreEqual(output[unit.N, unit.O, unit.Y, unit.X], result.RealOutput, SameSumTolerance, "out[unit]");
        TensorAssert.Close(engineGradOffset, result.RealGradOffset, SameSumTolerance, $"{c.Name}: real ∂out/∂offset vs engine");
        var numeric = DeformConvExplainer.FiniteDifferences(c.Call, unit);
        for (int n = 0; n < numeric.Count; n++)
        {
            Assert.AreEqual(numeric[n].Dy, result.Rows[n].RealDy, FiniteDifferenceTolerance, $"{c.Name}: point {n} ∂out/∂Δy");
            Assert.AreEqual(numeric[n].Dx, result.Rows[n].RealDx, FiniteDifferenceTolerance, $"{c.Name}: point {n} ∂out/∂Δx");
            Assert.AreEqual(0.0, result.Rows[n].IndexOnlyDy);
            Assert.AreEqual(0.0, result.Rows[n].IndexOnlyDx);
        }
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void DeformConvPaths_BothPaths_ForwardAndOtherGradientsEqualEngine(int seed)
    {
        var c = ExplainCases.Random(seed);
        var gradOutput = Tensor<double>.Randn(seed + 1000, c.Call.Run().Shape);
        var engine = Gradients(c.Call, gradOutput, null);
        foreach (var path in new[] { OffsetPath.IndicesAndCoefficients, OffsetPath.IndicesOnly })
        {
            var composed = Gradients(c.Call, gradOutput, path);
            for (int t = 0; t < engine.Count; t++)
            {
                // The ablation differs from the engine in the offset gradient only.
                if (path == OffsetPath.IndicesOnly && engine[t].Name == "offset") continue;
                TensorAssert.Close(engine[t].Value, composed[t].Value, SameSumTolerance, $"{c.Name}, {path}: {engine[t].Name}");
            }
        }
    }

    [TestMethod]
    public void DeformConvPaths_NonFiniteOffset_ThrowsNamingTheCall()
    {
        var call = new DeformConvCall<double>(Tensor<double>.Zeros(1, 1, 3, 3),
            Tensor<double>.FromArray([double.NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 1, 2, 3, 3), Tensor<double>.Zeros(1, 1, 1, 1));
        var error = Assert.ThrowsExactly<ArgumentException>(() => DeformConvPaths.Forward(call, OffsetPath.IndicesOnly));
        StringAssert.Contains(error.Message, "finite");
    }

    /// <summary>Output and every gradient, by the engine (path null) or the composed graph.</summary>
    private static List<(string Name, Tensor<double> Value)> Gradients(DeformConvCall<double> call, Tensor<double> gradOutput, OffsetPath? path)
    {
        Tensor<double> Leaf(Tensor<double> t) { var l = t.Clone(); l.RequiresGrad = true; return l; }
        var leaves = call.With(Leaf(call.Input), Leaf(call.Offset), Leaf(call.Weight),
            call.Bias is null ? null : Leaf(call.Bias), call.Mask is null ? null : Leaf(call.Mask));
        var output = path is { } p ? DeformConvPaths.Forward(leaves, p) : leaves.Run();
        output.Backward(gradOutput);
        var result = new List<(string, Tensor<double>)>
        {
            ("output", output.Detach()), ("input", leaves.Input.Grad!), ("offset", leaves.Offset.Grad!), ("weight", leaves.Weight.Grad!),
        };
        if (leaves.Bias is not null) result.Add(("bias", leaves.Bias.Grad!));
        if (leaves.Mask is not null) result.Add(("mask", leaves.Mask.Grad!));
        return result;
    }
}

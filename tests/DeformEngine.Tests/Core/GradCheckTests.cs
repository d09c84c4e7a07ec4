using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
public class GradCheckTests
{
    // Central differences of a quadratic are exact up to rounding of (f(x+h) − f(x−h))/2h, about
    // 1e-16/1e-6 = 1e-10 relative.
    private const double DifferenceTolerance = 1e-7;
    // KeepOffIntegers adds or subtracts decimals; a few ulp.
    private const double Rounding = 1e-12;

    /// <summary>x² recorded as a custom op whose backward returns factor·2x·g.</summary>
    private static Tensor<double> ScaledSquare(Tensor<double> x, double factor)
    {
        Tensor<double> square;
        using (Autograd.NoGrad()) square = x * x;
        return Autograd.Record(square, "ScaledSquare", (g, _) => [g * x * (2 * factor)], x);
    }

    [TestMethod]
    public void Check_Composite_Passes()
    {
        var x = Tensor<double>.Randn(1, 3, 4);
        var w = Tensor<double>.Randn(2, 4, 5);
        var b = Tensor<double>.Randn(3, 1, 5);
        var result = GradCheck.Check(
            t => t[0].MatMul(t[1]).Add(t[2]).Tanh().Mul(t[0].Sum(1, keepDim: true)).LogSoftmax(1).Sum(),
            [x, w, b], names: ["x", "w", "b"]);
        Passes(result);
        Assert.HasCount(3, result.Inputs);
    }

    [TestMethod]
    public void Check_CorrectCustomBackward_Passes()
    {
        Passes(GradCheck.Check(t => ScaledSquare(t[0], 1), [Tensor<double>.Randn(91, 6)]));
    }

    [TestMethod]
    public void Check_BackwardOffByFactorTwo_FailsWithRelativeErrorOneHalf()
    {
        var result = GradCheck.Check(t => ScaledSquare(t[0], 2), [Tensor<double>.Randn(92, 6)], names: ["x"]);
        Assert.IsFalse(result.Passed, result.ToString());
        var report = result.Inputs[0];
        Assert.IsFalse(report.Passed);
        // analytic = 2·numeric everywhere, so |a − n| / max(|a|, |n|) = ½ and the worst element's
        // analytic value is twice its numeric one.
        Assert.AreEqual(0.5, report.MaxRelError, DifferenceTolerance);
        Assert.AreEqual(2 * report.NumericAtWorst, report.AnalyticAtWorst, DifferenceTolerance * Math.Abs(report.AnalyticAtWorst));
        Assert.Contains("FAILED", result.ToString());
    }

    [TestMethod]
    public void Check_BackwardOffByOnePercent_FailsByDefaultPassesWithLooserRtol()
    {
        var x = Tensor<double>.Randn(93, 5);
        Assert.IsFalse(GradCheck.Check(t => ScaledSquare(t[0], 1.01), [x]).Passed);
        Passes(GradCheck.Check(t => ScaledSquare(t[0], 1.01), [x], new GradCheckOptions { Rtol = 0.05 }));
    }

    [TestMethod]
    public void Check_WrongGradientOfOneElement_WorstIndexPointsAtIt()
    {
        const int Wrong = 3;
        var result = GradCheck.Check(t =>
        {
            var x = t[0];
            Tensor<double> doubled;
            using (Autograd.NoGrad()) doubled = x * 2.0;
            return Autograd.Record(doubled, "Broken", (g, _) =>
            {
                var grad = (g * 2.0).ToArray();
                grad[Wrong] += 1;
                return [Tensor<double>.FromArray(grad, x.Shape)];
            }, x);
        }, [Tensor<double>.Randn(94, 2, 4)], names: ["x"]);
        Assert.IsFalse(result.Passed);
        Assert.AreEqual(Wrong, result.Inputs[0].WorstIndex);
        Assert.AreEqual(1, result.Inputs[0].MaxAbsError, DifferenceTolerance);
        var row = result.ToString().Split('\n')[2];
        Assert.StartsWith("x ", row);
        Assert.Contains("1.00E+00", row);
        Assert.EndsWith("NO", row.TrimEnd());
    }

    [TestMethod]
    public void Check_WrongGradientForSecondInput_OnlySecondFails()
    {
        var result = GradCheck.Check(t =>
        {
            var (a, b) = (t[0], t[1]);
            Tensor<double> product;
            using (Autograd.NoGrad()) product = a * b;
            return Autograd.Record(product, "HalfBroken", (g, _) => [g * b, g * a * 3.0], a, b);
        }, [Tensor<double>.Randn(95, 4), Tensor<double>.Randn(96, 4)], names: ["a", "b"]);
        Assert.IsTrue(result.Inputs[0].Passed, result.ToString());
        Assert.IsFalse(result.Inputs[1].Passed, result.ToString());
        Assert.IsFalse(result.Passed);
    }

    [TestMethod]
    public void Check_InputNotUsed_PassesWithZeroGradient()
    {
        var result = GradCheck.Check(t => t[0].Exp(), [Tensor<double>.Randn(97, 3), Tensor<double>.Randn(98, 2)]);
        Passes(result);
        Assert.AreEqual(0, result.Inputs[1].MaxAbsError);
    }

    [TestMethod]
    public void Check_CallerInputs_LeftUntouched()
    {
        var x = Tensor<double>.Randn(99, 4);
        var before = x.ToArray();
        GradCheck.Check(t => t[0].Tanh(), [x]);
        CollectionAssert.AreEqual(before, x.ToArray());
        Assert.IsNull(x.Grad);
        Assert.IsFalse(x.RequiresGrad);
    }

    [TestMethod]
    public void ToString_Report_IsATableWithOneRowPerInput()
    {
        var result = GradCheck.Check(t => t[0] * t[1], [Tensor<double>.Randn(100, 2, 3), Tensor<double>.Randn(101, 3)],
            names: ["weight", "bias"]);
        var lines = result.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(4, lines);
        Assert.StartsWith("GradCheck (eps 1E-06, atol 1E-05, rtol 0.001): PASSED", lines[0]);
        Assert.Contains("max |abs err|", lines[1]);
        Assert.StartsWith("weight", lines[2]);
        Assert.Contains("[2, 3]", lines[2]);
        Assert.StartsWith("bias", lines[3]);
        Assert.Contains("yes", lines[3]);
    }

    [TestMethod]
    public void Options_Defaults_MatchTorchGradcheck()
    {
        var options = new GradCheckOptions();
        Assert.AreEqual(1e-6, options.Eps);
        Assert.AreEqual(1e-5, options.Atol);
        Assert.AreEqual(1e-3, options.Rtol);
    }

    [TestMethod]
    public void Check_OutputIndependentOfInputs_ThrowsNamingFunction()
    {
        ThrowsArgument("function", () => GradCheck.Check(_ => Tensor<double>.Ones(2), [Tensor<double>.Ones(2)]));
    }

    [TestMethod]
    public void Check_NamesOfWrongCount_ThrowsNamingNames()
    {
        ThrowsArgument("names", () => GradCheck.Check(t => t[0].Exp(), [Tensor<double>.Ones(2)], names: ["a", "b"]));
    }

    [TestMethod]
    public void KeepOffIntegers_ValuesNearIntegers_MovedToMargin()
    {
        var moved = GradCheck.KeepOffIntegers(Tensor<double>.FromArray([0.01, 0.99, 2.5, -0.02, 3.0], 5), margin: 0.05);
        Close([0.05, 0.95, 2.5, -0.05, 3.05], moved, Rounding);
    }

    [TestMethod]
    public void KeepOffIntegers_MarginOutsideOpenHalfUnit_Throws()
    {
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GradCheck.KeepOffIntegers(Tensor<double>.Ones(1), 0.5));
        Assert.AreEqual("margin", ex.ParamName);
    }
}

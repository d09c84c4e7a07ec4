using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.NN;

[TestClass]
public class NNFunctionalTests
{
    /// <summary>Hand-computed values are short sums of exactly representable numbers.</summary>
    private const double Exact = 1e-12;

    /// <summary>Float runs of the same data differ from double by rounding in sums of ~100 terms.</summary>
    private const double FloatVsDouble = 1e-5;

    private static GradCheckResult Check(Func<Tensor<double>[], Tensor<double>> f, Tensor<double>[] inputs, params string[] names)
    {
        var result = GradCheck.Check(f, inputs, names: names);
        Assert.IsTrue(result.Passed, result.ToString());
        return result;
    }

    // ---- Linear -------------------------------------------------------------------------

    [TestMethod]
    public void Linear_HandComputed_MatchesFormula()
    {
        // [1, 2]·[[1, 0], [2, 1], [0, −1]]ᵀ + [0.5, 0, 1] = [1.5, 4, −1].
        var x = Tensor<double>.FromArray([1, 2], 1, 2);
        var w = Tensor<double>.FromArray([1, 0, 2, 1, 0, -1], 3, 2);
        var b = Tensor<double>.FromArray([0.5, 0, 1], 3);
        CollectionAssert.AreEqual(new double[] { 1.5, 4, -1 }, Functional.Linear(x, w, b).ToArray());
    }

    [TestMethod]
    public void Linear_GradCheck_Passes() =>
        Check(t => Functional.Linear(t[0], t[1], t[2]),
            [Tensor<double>.Randn(1, 2, 3, 4), Tensor<double>.Randn(2, 5, 4), Tensor<double>.Randn(3, 5)], "input", "weight", "bias");

    [TestMethod]
    public void Linear_WrongInputWidth_ThrowsNamingShapes()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => Functional.Linear(Tensor<float>.Zeros(2, 3), Tensor<float>.Zeros(5, 4)));
        Assert.AreEqual("input", e.ParamName);
        StringAssert.Contains(e.Message, "[..., 4]");
        StringAssert.Contains(e.Message, "[2, 3]");
    }

    // ---- pooling ------------------------------------------------------------------------

    [TestMethod]
    public void MaxPool2d_HandComputed_TakesWindowMaxima()
    {
        var x = Tensor<double>.FromArray([1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 2, 9, 1, 3, 7], 1, 1, 4, 4);
        CollectionAssert.AreEqual(new double[] { 5, 8, 9, 7 }, Functional.MaxPool2d(x, (2, 2)).ToArray());
        // 3×3 windows, stride 2, padding 1 (padding reads −∞): windows centred on (0,0), (0,2), (2,0), (2,2).
        CollectionAssert.AreEqual(new double[] { 5, 8, 9, 8 }, Functional.MaxPool2d(x, (3, 3), (2, 2), (1, 1)).ToArray());
    }

    [TestMethod]
    public void MaxPool2d_Backward_RoutesGradientToArgmax()
    {
        var x = Tensor<double>.FromArray([1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 2, 9, 1, 3, 7], 1, 1, 4, 4);
        x.RequiresGrad = true;
        Functional.MaxPool2d(x, (2, 2)).Backward(Tensor<double>.FromArray([1, 2, 3, 4], 1, 1, 2, 2));
        CollectionAssert.AreEqual(new double[] { 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 4 }, x.Grad!.ToArray());
    }

    [TestMethod]
    public void MaxPool2d_GradCheck_Passes() =>
        Check(t => Functional.MaxPool2d(t[0], (3, 2), (2, 1), (1, 1)), [Tensor<double>.Randn(4, 2, 2, 5, 6)], "input");

    [TestMethod]
    public void AvgPool2d_HandComputed_CountsPaddingAsAsked()
    {
        var x = Tensor<double>.FromArray([1, 2, 3, 4], 1, 1, 2, 2);
        Assert.AreEqual(2.5, Functional.AvgPool2d(x, (2, 2)).Item(), Exact);
        // 3×3 window centred on (0,0) with padding 1 holds 1, 2, 3, 4 and five padding zeros.
        var included = Functional.AvgPool2d(x, (3, 3), (1, 1), (1, 1));
        Assert.AreEqual(10.0 / 9, included[0, 0, 0, 0], Exact);
        var excluded = Functional.AvgPool2d(x, (3, 3), (1, 1), (1, 1), countIncludePad: false);
        Assert.AreEqual(10.0 / 4, excluded[0, 0, 0, 0], Exact);
    }

    [TestMethod]
    public void AvgPool2d_GradCheck_Passes()
    {
        Check(t => Functional.AvgPool2d(t[0], (3, 3), (2, 2), (1, 1)), [Tensor<double>.Randn(5, 2, 2, 5, 6)], "input");
        Check(t => Functional.AvgPool2d(t[0], (2, 3), (1, 2), (1, 1), countIncludePad: false), [Tensor<double>.Randn(6, 1, 2, 4, 5)], "input");
    }

    [TestMethod]
    public void AdaptiveAvgPool2d_UnevenBins_FollowPyTorch()
    {
        // H = 5 → 3 bins: rows [0, 2), [1, 4), [3, 5) (⌊i·5/3⌋ to ⌈(i+1)·5/3⌉), overlapping.
        var x = Tensor<double>.FromArray([0, 1, 2, 3, 4], 1, 1, 5, 1);
        CollectionAssert.AreEqual(new double[] { 0.5, 2, 3.5 }, Functional.AdaptiveAvgPool2d(x, (3, 1)).ToArray());
        Assert.AreEqual(2.0, Functional.AdaptiveAvgPool2d(x, (1, 1)).Item(), Exact);
    }

    [TestMethod]
    public void AdaptiveAvgPool2d_GradCheck_Passes() =>
        Check(t => Functional.AdaptiveAvgPool2d(t[0], (3, 2)), [Tensor<double>.Randn(7, 2, 2, 5, 7)], "input");

    [TestMethod]
    public void MaxPool2d_BadArguments_ThrowNamingThem()
    {
        var x = Tensor<float>.Zeros(1, 1, 4, 4);
        Assert.AreEqual("input", Assert.ThrowsExactly<ArgumentException>(() => Functional.MaxPool2d(Tensor<float>.Zeros(4, 4), (2, 2))).ParamName);
        Assert.AreEqual("kernelSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Functional.MaxPool2d(x, (0, 2))).ParamName);
        Assert.AreEqual("padding", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Functional.AvgPool2d(x, (2, 2), padding: (2, 0))).ParamName);
        var tooBig = Assert.ThrowsExactly<ArgumentException>(() => Functional.MaxPool2d(x, (5, 5)));
        StringAssert.Contains(tooBig.Message, "kernel 5");
    }

    // ---- BatchNorm2d --------------------------------------------------------------------

    [TestMethod]
    public void BatchNorm2d_Training_NormalisesAndUpdatesRunningStatsUnbiased()
    {
        // One channel holding 1, 2, 3, 4: mean 2.5, biased variance 1.25, unbiased 5/3.
        var x = Tensor<double>.FromArray([1, 2, 3, 4], 2, 1, 1, 2);
        var runningMean = Tensor<double>.Zeros(1);
        var runningVar = Tensor<double>.Ones(1);
        var y = Functional.BatchNorm2d(x, runningMean, runningVar, training: true, momentum: 0.1, eps: 0);
        double invStd = 1 / Math.Sqrt(1.25);
        double[] expected = [-1.5 * invStd, -0.5 * invStd, 0.5 * invStd, 1.5 * invStd];
        for (int i = 0; i < 4; i++) Assert.AreEqual(expected[i], y.ToArray()[i], Exact);
        Assert.AreEqual(0.25, runningMean[0], Exact);
        Assert.AreEqual(0.9 + 0.1 * 5.0 / 3, runningVar[0], Exact);
    }

    [TestMethod]
    public void BatchNorm2d_Eval_UsesRunningStats()
    {
        var x = Tensor<double>.FromArray([1, 3], 1, 2, 1, 1);
        var y = Functional.BatchNorm2d(x, Tensor<double>.FromArray([1, 1], 2), Tensor<double>.FromArray([4, 1], 2),
            Tensor<double>.FromArray([2, 1], 2), Tensor<double>.FromArray([0, 10], 2), training: false, eps: 0);
        CollectionAssert.AreEqual(new double[] { 0, 12 }, y.ToArray());
    }

    [TestMethod]
    public void BatchNorm2d_TrainingGradCheck_Passes() =>
        Check(t => Functional.BatchNorm2d(t[0], null, null, t[1], t[2], training: true),
            [Tensor<double>.Randn(8, 3, 2, 2, 3), Tensor<double>.Randn(9, 2), Tensor<double>.Randn(10, 2)], "input", "weight", "bias");

    [TestMethod]
    public void BatchNorm2d_EvalGradCheck_Passes() =>
        Check(t => Functional.BatchNorm2d(t[0], Tensor<double>.FromArray([0.1, -0.2], 2), Tensor<double>.FromArray([0.5, 2], 2), t[1], t[2]),
            [Tensor<double>.Randn(11, 2, 2, 2, 3), Tensor<double>.Randn(12, 2), Tensor<double>.Randn(13, 2)], "input", "weight", "bias");

    [TestMethod]
    public void BatchNorm2d_FloatMatchesDouble()
    {
        var x = Tensor<double>.Randn(14, 4, 3, 5, 5).MulScalar(3).AddScalar(2);
        var expected = Functional.BatchNorm2d(x, null, null, training: true);
        var actual = Functional.BatchNorm2d(TensorAssert.ToFloat(x), null, null, training: true);
        TensorAssert.Close(TensorAssert.ToFloat(expected), actual, FloatVsDouble, "output");
    }

    [TestMethod]
    public void BatchNorm2d_BadArguments_ThrowNamingThem()
    {
        var x = Tensor<float>.Zeros(2, 3, 2, 2);
        var wrong = Assert.ThrowsExactly<ArgumentException>(() => Functional.BatchNorm2d(x, null, null, Tensor<float>.Ones(4), training: true));
        Assert.AreEqual("weight", wrong.ParamName);
        StringAssert.Contains(wrong.Message, "expected shape [3], got [4]");
        Assert.AreEqual("runningMean", Assert.ThrowsExactly<ArgumentException>(() => Functional.BatchNorm2d(x, null, null, training: false)).ParamName);
        var single = Assert.ThrowsExactly<ArgumentException>(() => Functional.BatchNorm2d(Tensor<float>.Zeros(1, 3, 1, 1), null, null, training: true));
        StringAssert.Contains(single.Message, "more than one value per channel");
    }

    // ---- Dropout ------------------------------------------------------------------------

    [TestMethod]
    public void Dropout_Training_ZeroesAboutPAndScalesTheRest()
    {
        var x = Tensor<double>.Ones(10000);
        var y = Functional.Dropout(x, 0.25, training: true, new SeededRandom(3)).ToArray();
        int dropped = y.Count(v => v == 0);
        Assert.IsTrue(dropped is > 2300 and < 2700, $"dropped {dropped} of 10000 at p = 0.25");
        Assert.IsTrue(y.Where(v => v != 0).All(v => Math.Abs(v - 1 / 0.75) < Exact));
        var again = Functional.Dropout(x, 0.25, training: true, new SeededRandom(3)).ToArray();
        CollectionAssert.AreEqual(y, again, "same seed, same mask");
    }

    [TestMethod]
    public void Dropout_Eval_IsIdentity()
    {
        var x = Tensor<double>.Randn(15, 5);
        Assert.AreSame(x, Functional.Dropout(x, 0.5, training: false, new SeededRandom(1)));
    }

    [TestMethod]
    public void Dropout_GradCheck_Passes() =>
        Check(t => Functional.Dropout(t[0], 0.4, training: true, new SeededRandom(16)), [Tensor<double>.Randn(17, 3, 4)], "input");

    // ---- losses -------------------------------------------------------------------------

    [TestMethod]
    public void CrossEntropy_HandComputed_MatchesLogSumExp()
    {
        // Row 0: equal logits over 2 classes → log 2. Row 1: logits [0, ln 3], target 1 → −log(3/4).
        var logits = Tensor<double>.FromArray([5, 5, 0, Math.Log(3)], 2, 2);
        var loss = Functional.CrossEntropy(logits, [0, 1]);
        Assert.AreEqual((Math.Log(2) - Math.Log(0.75)) / 2, loss.Item(), Exact);
        var perRow = Functional.CrossEntropy(logits, [0, 1], Reduction.None);
        CollectionAssert.AreEqual(new[] { 2 }, perRow.Shape);
        Assert.AreEqual(Math.Log(2), perRow[0], Exact);
    }

    [TestMethod]
    public void CrossEntropy_GradCheck_Passes()
    {
        int[] targets = [2, 0, 1, 2];
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None })
            Check(t => Functional.CrossEntropy(t[0], targets, reduction), [Tensor<double>.Randn(18, 4, 3).MulScalar(3)], "logits");
    }

    [TestMethod]
    public void CrossEntropy_BadTargets_ThrowNamingThem()
    {
        var logits = Tensor<float>.Zeros(2, 3);
        var count = Assert.ThrowsExactly<ArgumentException>(() => Functional.CrossEntropy(logits, [0]));
        Assert.AreEqual("targets", count.ParamName);
        StringAssert.Contains(count.Message, "expected 2 class indices");
        var range = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Functional.CrossEntropy(logits, [0, 3]));
        StringAssert.Contains(range.Message, "[0, 2]");
    }

    [TestMethod]
    public void MseLoss_HandComputed_AndGradCheck()
    {
        var loss = Functional.MseLoss(Tensor<double>.FromArray([1, 2, 3], 3), Tensor<double>.FromArray([1, 0, 0], 3));
        Assert.AreEqual(13.0 / 3, loss.Item(), Exact);
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None })
            Check(t => Functional.MseLoss(t[0], t[1], reduction), [Tensor<double>.Randn(19, 2, 3), Tensor<double>.Randn(20, 2, 3)], "input", "target");
        Assert.AreEqual("target", Assert.ThrowsExactly<ArgumentException>(() =>
            Functional.MseLoss(Tensor<float>.Zeros(2, 3), Tensor<float>.Zeros(3, 2))).ParamName);
    }

    [TestMethod]
    public void CosineMimicLoss_HandComputed_IsOneMinusCosine()
    {
        // Rows: identical (cos 1 → 0), orthogonal (cos 0 → 1), opposite (cos −1 → 2).
        var a = Tensor<double>.FromArray([1, 2, 1, 0, 3, 4], 3, 2);
        var b = Tensor<double>.FromArray([2, 4, 0, 5, -3, -4], 3, 2);
        var perRow = Functional.CosineMimicLoss(a, b, Reduction.None).ToArray();
        for (int i = 0; i < 3; i++) Assert.AreEqual(i, perRow[i], Exact);
        Assert.AreEqual(1.0, Functional.CosineMimicLoss(a, b).Item(), Exact);
    }

    [TestMethod]
    public void CosineMimicLoss_GradCheck_Passes() =>
        Check(t => Functional.CosineMimicLoss(t[0], t[1]), [Tensor<double>.Randn(21, 3, 2, 2), Tensor<double>.Randn(22, 3, 2, 2)], "a", "b");

    [TestMethod]
    public void CosineMimicLoss_ZeroRow_HasFiniteGradient()
    {
        var a = Tensor<double>.Zeros(1, 3);
        a.RequiresGrad = true;
        Functional.CosineMimicLoss(a, Tensor<double>.FromArray([1, 2, 2], 1, 3)).Backward();
        Assert.IsTrue(a.Grad!.ToArray().All(double.IsFinite));
    }
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.NN;

/// <summary>The NN functional operators against hand values, finite differences and their argument checks,
/// on every backend (CosineMimicLoss runs on the CPU only; elsewhere it must refuse clearly).</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class NNFunctionalTests
{
    /// <summary>Hand-computed values are short sums of exactly representable numbers.</summary>
    private const double Exact = 1e-12;

    /// <summary>Float runs of the same data differ from double by rounding in sums of ~100 terms.</summary>
    private const double FloatVsDouble = 1e-5;

    public static IEnumerable<object[]> Backends => TestBackends.All;

    private static GradCheckResult Check(TestBackend target, Func<Tensor<double>[], Tensor<double>> f, Tensor<double>[] inputs, params string[] names)
    {
        var result = GradCheck.Check(target.Run(f), inputs, names: names);
        Assert.IsTrue(result.Passed, result.ToString());
        return result;
    }

    // ---- Linear -------------------------------------------------------------------------

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Linear_HandComputed_MatchesFormula(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // [1, 2]·[[1, 0], [2, 1], [0, −1]]ᵀ + [0.5, 0, 1] = [1.5, 4, −1].
        var x = Tensor<double>.FromArray([1, 2], 1, 2);
        var w = Tensor<double>.FromArray([1, 0, 2, 1, 0, -1], 3, 2);
        var b = Tensor<double>.FromArray([0.5, 0, 1], 3);
        CollectionAssert.AreEqual(new double[] { 1.5, 4, -1 }, Functional.Linear(target.On(x), target.On(w), target.On(b)).ToArray());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Linear_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        Check(target, t => Functional.Linear(t[0], t[1], t[2]),
            [Tensor<double>.Randn(1, 2, 3, 4), Tensor<double>.Randn(2, 5, 4), Tensor<double>.Randn(3, 5)], "input", "weight", "bias");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Linear_WrongInputWidth_ThrowsNamingShapes(string backend)
    {
        using var target = TestBackends.Open(backend);
        var e = Assert.ThrowsExactly<ArgumentException>(() =>
            Functional.Linear(target.On(Tensor<float>.Zeros(2, 3)), target.On(Tensor<float>.Zeros(5, 4))));
        Assert.AreEqual("input", e.ParamName);
        StringAssert.Contains(e.Message, "[..., 4]");
        StringAssert.Contains(e.Message, "[2, 3]");
    }

    // ---- pooling ------------------------------------------------------------------------

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MaxPool2d_HandComputed_TakesWindowMaxima(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = target.On(Tensor<double>.FromArray([1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 2, 9, 1, 3, 7], 1, 1, 4, 4));
        CollectionAssert.AreEqual(new double[] { 5, 8, 9, 7 }, Functional.MaxPool2d(x, (2, 2)).ToArray());
        // 3×3 windows, stride 2, padding 1 (padding reads −∞): windows centred on (0,0), (0,2), (2,0), (2,2).
        CollectionAssert.AreEqual(new double[] { 5, 8, 9, 8 }, Functional.MaxPool2d(x, (3, 3), (2, 2), (1, 1)).ToArray());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MaxPool2d_Backward_RoutesGradientToArgmax(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = Tensor<double>.FromArray([1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 2, 9, 1, 3, 7], 1, 1, 4, 4);
        x.RequiresGrad = true;
        Functional.MaxPool2d(target.On(x), (2, 2)).Backward(target.On(Tensor<double>.FromArray([1, 2, 3, 4], 1, 1, 2, 2)));
        CollectionAssert.AreEqual(new double[] { 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 4 }, x.Grad!.ToArray());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MaxPool2d_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        Check(target, t => Functional.MaxPool2d(t[0], (3, 2), (2, 1), (1, 1)), [Tensor<double>.Randn(4, 2, 2, 5, 6)], "input");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void AvgPool2d_HandComputed_CountsPaddingAsAsked(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = target.On(Tensor<double>.FromArray([1, 2, 3, 4], 1, 1, 2, 2));
        Assert.AreEqual(2.5, Functional.AvgPool2d(x, (2, 2)).Item(), Exact);
        // 3×3 window centred on (0,0) with padding 1 holds 1, 2, 3, 4 and five padding zeros.
        var included = Functional.AvgPool2d(x, (3, 3), (1, 1), (1, 1)).To(Device.Cpu);
        Assert.AreEqual(10.0 / 9, included[0, 0, 0, 0], Exact);
        var excluded = Functional.AvgPool2d(x, (3, 3), (1, 1), (1, 1), countIncludePad: false).To(Device.Cpu);
        Assert.AreEqual(10.0 / 4, excluded[0, 0, 0, 0], Exact);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void AvgPool2d_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        Check(target, t => Functional.AvgPool2d(t[0], (3, 3), (2, 2), (1, 1)), [Tensor<double>.Randn(5, 2, 2, 5, 6)], "input");
        Check(target, t => Functional.AvgPool2d(t[0], (2, 3), (1, 2), (1, 1), countIncludePad: false), [Tensor<double>.Randn(6, 1, 2, 4, 5)], "input");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void AdaptiveAvgPool2d_UnevenBins_FollowPyTorch(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // H = 5 → 3 bins: rows [0, 2), [1, 4), [3, 5) (⌊i·5/3⌋ to ⌈(i+1)·5/3⌉), overlapping.
        var x = target.On(Tensor<double>.FromArray([0, 1, 2, 3, 4], 1, 1, 5, 1));
        CollectionAssert.AreEqual(new double[] { 0.5, 2, 3.5 }, Functional.AdaptiveAvgPool2d(x, (3, 1)).ToArray());
        Assert.AreEqual(2.0, Functional.AdaptiveAvgPool2d(x, (1, 1)).Item(), Exact);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void AdaptiveAvgPool2d_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        Check(target, t => Functional.AdaptiveAvgPool2d(t[0], (3, 2)), [Tensor<double>.Randn(7, 2, 2, 5, 7)], "input");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MaxPool2d_BadArguments_ThrowNamingThem(string backend)
    {
        using var target = TestBackends.Open(backend);
        var x = target.On(Tensor<float>.Zeros(1, 1, 4, 4));
        Assert.AreEqual("input", Assert.ThrowsExactly<ArgumentException>(() => Functional.MaxPool2d(target.On(Tensor<float>.Zeros(4, 4)), (2, 2))).ParamName);
        Assert.AreEqual("kernelSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Functional.MaxPool2d(x, (0, 2))).ParamName);
        Assert.AreEqual("padding", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Functional.AvgPool2d(x, (2, 2), padding: (2, 0))).ParamName);
        var tooBig = Assert.ThrowsExactly<ArgumentException>(() => Functional.MaxPool2d(x, (5, 5)));
        StringAssert.Contains(tooBig.Message, "kernel 5");
    }

    // ---- BatchNorm2d --------------------------------------------------------------------

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BatchNorm2d_Training_NormalisesAndUpdatesRunningStatsUnbiased(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // One channel holding 1, 2, 3, 4: mean 2.5, biased variance 1.25, unbiased 5/3.
        var x = target.On(Tensor<double>.FromArray([1, 2, 3, 4], 2, 1, 1, 2));
        var runningMean = target.On(Tensor<double>.Zeros(1));
        var runningVar = target.On(Tensor<double>.Ones(1));
        var y = Functional.BatchNorm2d(x, runningMean, runningVar, training: true, momentum: 0.1, eps: 0).ToArray();
        double invStd = 1 / Math.Sqrt(1.25);
        double[] expected = [-1.5 * invStd, -0.5 * invStd, 0.5 * invStd, 1.5 * invStd];
        for (int i = 0; i < 4; i++) Assert.AreEqual(expected[i], y[i], Exact);
        Assert.AreEqual(0.25, runningMean.To(Device.Cpu)[0], Exact);
        Assert.AreEqual(0.9 + 0.1 * 5.0 / 3, runningVar.To(Device.Cpu)[0], Exact);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BatchNorm2d_Eval_UsesRunningStats(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = Tensor<double>.FromArray([1, 3], 1, 2, 1, 1);
        var y = Functional.BatchNorm2d(target.On(x), target.On(Tensor<double>.FromArray([1, 1], 2)), target.On(Tensor<double>.FromArray([4, 1], 2)),
            target.On(Tensor<double>.FromArray([2, 1], 2)), target.On(Tensor<double>.FromArray([0, 10], 2)), training: false, eps: 0);
        CollectionAssert.AreEqual(new double[] { 0, 12 }, y.ToArray());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BatchNorm2d_TrainingGradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        Check(target, t => Functional.BatchNorm2d(t[0], null, null, t[1], t[2], training: true),
            [Tensor<double>.Randn(8, 3, 2, 2, 3), Tensor<double>.Randn(9, 2), Tensor<double>.Randn(10, 2)], "input", "weight", "bias");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BatchNorm2d_EvalGradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var runningMean = target.On(Tensor<double>.FromArray([0.1, -0.2], 2));
        var runningVar = target.On(Tensor<double>.FromArray([0.5, 2], 2));
        Check(target, t => Functional.BatchNorm2d(t[0], runningMean, runningVar, t[1], t[2]),
            [Tensor<double>.Randn(11, 2, 2, 2, 3), Tensor<double>.Randn(12, 2), Tensor<double>.Randn(13, 2)], "input", "weight", "bias");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BatchNorm2d_FloatMatchesDouble(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = Tensor<double>.Randn(14, 4, 3, 5, 5).MulScalar(3).AddScalar(2);
        var expected = Functional.BatchNorm2d(target.On(x), null, null, training: true).To(Device.Cpu);
        var actual = Functional.BatchNorm2d(target.On(TensorAssert.ToFloat(x)), null, null, training: true);
        TensorAssert.Close(TensorAssert.ToFloat(expected), actual, FloatVsDouble, "output");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BatchNorm2d_BadArguments_ThrowNamingThem(string backend)
    {
        using var target = TestBackends.Open(backend);
        var x = target.On(Tensor<float>.Zeros(2, 3, 2, 2));
        var wrong = Assert.ThrowsExactly<ArgumentException>(() => Functional.BatchNorm2d(x, null, null, target.On(Tensor<float>.Ones(4)), training: true));
        Assert.AreEqual("weight", wrong.ParamName);
        StringAssert.Contains(wrong.Message, "expected shape [3], got [4]");
        Assert.AreEqual("runningMean", Assert.ThrowsExactly<ArgumentException>(() => Functional.BatchNorm2d(x, null, null, training: false)).ParamName);
        var single = Assert.ThrowsExactly<ArgumentException>(() =>
            Functional.BatchNorm2d(target.On(Tensor<float>.Zeros(1, 3, 1, 1)), null, null, training: true));
        StringAssert.Contains(single.Message, "more than one value per channel");
    }

    // ---- Dropout ------------------------------------------------------------------------

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Dropout_Training_ZeroesAboutPAndScalesTheRest(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = target.On(Tensor<double>.Ones(10000));
        var y = Functional.Dropout(x, 0.25, training: true, new SeededRandom(3)).ToArray();
        int dropped = y.Count(v => v == 0);
        Assert.IsTrue(dropped is > 2300 and < 2700, $"dropped {dropped} of 10000 at p = 0.25");
        Assert.IsTrue(y.Where(v => v != 0).All(v => Math.Abs(v - 1 / 0.75) < Exact));
        var again = Functional.Dropout(x, 0.25, training: true, new SeededRandom(3)).ToArray();
        CollectionAssert.AreEqual(y, again, "same seed, same mask");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Dropout_Eval_IsIdentity(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = target.On(Tensor<double>.Randn(15, 5));
        Assert.AreSame(x, Functional.Dropout(x, 0.5, training: false, new SeededRandom(1)));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Dropout_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        Check(target, t => Functional.Dropout(t[0], 0.4, training: true, new SeededRandom(16)), [Tensor<double>.Randn(17, 3, 4)], "input");
    }

    // ---- losses -------------------------------------------------------------------------

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void CrossEntropy_HandComputed_MatchesLogSumExp(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // Row 0: equal logits over 2 classes → log 2. Row 1: logits [0, ln 3], target 1 → −log(3/4).
        var logits = target.On(Tensor<double>.FromArray([5, 5, 0, Math.Log(3)], 2, 2));
        var loss = Functional.CrossEntropy(logits, [0, 1]);
        Assert.AreEqual((Math.Log(2) - Math.Log(0.75)) / 2, loss.Item(), Exact);
        var perRow = Functional.CrossEntropy(logits, [0, 1], Reduction.None);
        CollectionAssert.AreEqual(new[] { 2 }, perRow.Shape);
        Assert.AreEqual(Math.Log(2), perRow.To(Device.Cpu)[0], Exact);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void CrossEntropy_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        int[] targets = [2, 0, 1, 2];
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None })
            Check(target, t => Functional.CrossEntropy(t[0], targets, reduction), [Tensor<double>.Randn(18, 4, 3).MulScalar(3)], "logits");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void CrossEntropy_BadTargets_ThrowNamingThem(string backend)
    {
        using var target = TestBackends.Open(backend);
        var logits = target.On(Tensor<float>.Zeros(2, 3));
        var count = Assert.ThrowsExactly<ArgumentException>(() => Functional.CrossEntropy(logits, [0]));
        Assert.AreEqual("targets", count.ParamName);
        StringAssert.Contains(count.Message, "expected 2 class indices");
        var range = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Functional.CrossEntropy(logits, [0, 3]));
        StringAssert.Contains(range.Message, "[0, 2]");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MseLoss_HandComputed_AndGradCheck(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var loss = Functional.MseLoss(target.On(Tensor<double>.FromArray([1, 2, 3], 3)), target.On(Tensor<double>.FromArray([1, 0, 0], 3)));
        Assert.AreEqual(13.0 / 3, loss.Item(), Exact);
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum, Reduction.None })
            Check(target, t => Functional.MseLoss(t[0], t[1], reduction), [Tensor<double>.Randn(19, 2, 3), Tensor<double>.Randn(20, 2, 3)], "input", "target");
        Assert.AreEqual("target", Assert.ThrowsExactly<ArgumentException>(() =>
            Functional.MseLoss(target.On(Tensor<float>.Zeros(2, 3)), target.On(Tensor<float>.Zeros(3, 2)))).ParamName);
    }

    /// <summary>CosineMimicLoss has a CPU implementation only: on another backend <paramref name="call"/>
    /// must throw NotSupportedException naming the operator and the device (then true).</summary>
    private static bool RefusedOffTheCpu(TestBackend target, Action call)
    {
        if (target.IsCpu) return false;
        var error = Assert.ThrowsExactly<NotSupportedException>(call);
        StringAssert.Contains(error.Message, "CosineMimicLoss");
        StringAssert.Contains(error.Message, target.Device.Name);
        return true;
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void CosineMimicLoss_HandComputed_IsOneMinusCosine(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // Rows: identical (cos 1 → 0), orthogonal (cos 0 → 1), opposite (cos −1 → 2).
        var a = target.On(Tensor<double>.FromArray([1, 2, 1, 0, 3, 4], 3, 2));
        var b = target.On(Tensor<double>.FromArray([2, 4, 0, 5, -3, -4], 3, 2));
        if (RefusedOffTheCpu(target, () => Functional.CosineMimicLoss(a, b, Reduction.None))) return;
        var perRow = Functional.CosineMimicLoss(a, b, Reduction.None).ToArray();
        for (int i = 0; i < 3; i++) Assert.AreEqual(i, perRow[i], Exact);
        Assert.AreEqual(1.0, Functional.CosineMimicLoss(a, b).Item(), Exact);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void CosineMimicLoss_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        Tensor<double>[] inputs = [Tensor<double>.Randn(21, 3, 2, 2), Tensor<double>.Randn(22, 3, 2, 2)];
        if (RefusedOffTheCpu(target, () => Functional.CosineMimicLoss(target.On(inputs[0]), target.On(inputs[1])))) return;
        Check(target, t => Functional.CosineMimicLoss(t[0], t[1]), inputs, "a", "b");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void CosineMimicLoss_ZeroRow_HasFiniteGradient(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var a = Tensor<double>.Zeros(1, 3);
        a.RequiresGrad = true;
        var b = Tensor<double>.FromArray([1, 2, 2], 1, 3);
        if (RefusedOffTheCpu(target, () => Functional.CosineMimicLoss(target.On(a), target.On(b)))) return;
        Functional.CosineMimicLoss(target.On(a), target.On(b)).Backward();
        Assert.IsTrue(a.Grad!.ToArray().All(double.IsFinite));
    }
}

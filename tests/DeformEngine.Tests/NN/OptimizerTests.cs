using DeformEngine.NN;
using DeformEngine.Optim;

namespace DeformEngine.Tests.NN;

[TestClass]
public class OptimizerTests
{
    /// <summary>Hand-computed values: a few double operations each, off by rounding only.</summary>
    private const double HandComputed = 1e-12;

    /// <summary>Adam's ε = 1e-8 shifts the first step, lr·g/(|g| + ε), by about lr·ε/|g|.</summary>
    private const double AdamEpsilonShift = 1e-8;

    private static readonly double[] Curvature = [3, 1];

    /// <summary>x = [1, −2] on f(x) = ½(3x₀² + x₁²), whose gradient is [3x₀, x₁].</summary>
    private static Parameter<double> StartPoint() => new(Tensor<double>.FromArray([1, -2], 2));

    private static void ComputeGradient(Parameter<double> x)
    {
        x.ZeroGrad();
        x.Value.Mul(x.Value).Mul(Tensor<double>.FromArray(Curvature, 2)).Sum().MulScalar(0.5).Backward();
    }

    private static double[] Run(Parameter<double> x, Optimizer<double> optimizer, int steps)
    {
        for (int i = 0; i < steps; i++)
        {
            ComputeGradient(x);
            optimizer.Step();
        }
        return x.Value.ToArray();
    }

    private static void AssertValues(double[] expected, double[] actual, double tolerance)
    {
        Assert.AreEqual(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], actual[i], tolerance, $"element {i}");
    }

    [TestMethod]
    public void Sgd_Plain_StepsAgainstGradient()
    {
        // g = [3, −2] → x = [1 − 0.3, −2 + 0.2].
        var x = StartPoint();
        AssertValues([0.7, -1.8], Run(x, new Sgd<double>([x], 0.1), 1), HandComputed);
    }

    [TestMethod]
    public void Sgd_Momentum_MatchesHandComputedSteps()
    {
        // Step 1: g = [3, −2], b = g, x = [0.7, −1.8].
        // Step 2: g = [2.1, −1.8], b = 0.9·[3, −2] + g = [4.8, −3.6], x = [0.7 − 0.48, −1.8 + 0.36].
        var x = StartPoint();
        AssertValues([0.22, -1.44], Run(x, new Sgd<double>([x], 0.1, momentum: 0.9), 2), HandComputed);
    }

    [TestMethod]
    public void Sgd_Nesterov_MatchesHandComputedSteps()
    {
        // Step 1: g = [3, −2], b = g, step g + 0.9b = [5.7, −3.8] → x = [0.43, −1.62].
        // Step 2: g = [1.29, −1.62], b = [2.7 + 1.29, −1.8 − 1.62] = [3.99, −3.42],
        //         step g + 0.9b = [4.881, −4.698] → x = [0.43 − 0.4881, −1.62 + 0.4698].
        var x = StartPoint();
        AssertValues([-0.0581, -1.1502], Run(x, new Sgd<double>([x], 0.1, momentum: 0.9, nesterov: true), 2), HandComputed);
    }

    [TestMethod]
    public void Sgd_WeightDecay_AddsDecayTimesParameter()
    {
        // Step 1: g = [3, −2] + 0.5·[1, −2] = [3.5, −3] → x = [0.65, −1.7].
        // Step 2: g = [1.95, −1.7] + 0.5·[0.65, −1.7] = [2.275, −2.55] → x = [0.4225, −1.445].
        var x = StartPoint();
        AssertValues([0.4225, -1.445], Run(x, new Sgd<double>([x], 0.1, weightDecay: 0.5), 2), HandComputed);
    }

    [TestMethod]
    public void Adam_MatchesHandComputedSteps()
    {
        // Step 1: m̂ = g, v̂ = g², so x moves by lr·sign(g): [0.9, −1.9].
        // Step 2: g = [2.7, −1.9]; m = 0.09·[3, −2] + 0.1·g = [0.54, −0.37]; v = 0.000999·[9, 4] + 0.001·g² = [0.016281, 0.007606];
        //         m̂ = m/0.19, v̂ = v/0.001999; x −= 0.1·m̂/√v̂ = [0.0995878, 0.0998335].
        var x = StartPoint();
        var adam = new Adam<double>([x], learningRate: 0.1);
        AssertValues([0.9, -1.9], Run(x, adam, 1), AdamEpsilonShift);
        double step0 = 0.1 * (0.54 / 0.19) / Math.Sqrt(0.016281 / 0.001999);
        double step1 = 0.1 * (0.37 / 0.19) / Math.Sqrt(0.007606 / 0.001999);
        AssertValues([0.9 - step0, -1.9 + step1], Run(x, adam, 1), AdamEpsilonShift);
        AssertValues([0.8004122283516111, -1.8001664866210927], x.Value.ToArray(), AdamEpsilonShift);
    }

    [TestMethod]
    public void AdamW_DecaysDecoupled_AdamDecaysThroughGradient()
    {
        // AdamW: x·(1 − lr·λ) = [0.99, −1.98], then −lr·sign(g) → [0.89, −1.88].
        var x = StartPoint();
        AssertValues([0.89, -1.88], Run(x, new AdamW<double>([x], learningRate: 0.1, weightDecay: 0.1), 1), AdamEpsilonShift);
        // Adam with L2: g + λx keeps its sign, so the first step is still lr·sign: [0.9, −1.9].
        var y = StartPoint();
        AssertValues([0.9, -1.9], Run(y, new Adam<double>([y], learningRate: 0.1, weightDecay: 0.1), 1), AdamEpsilonShift);
    }

    [TestMethod]
    public void LrMultiplier_ScalesTheUpdate_ForSgdAndAdam()
    {
        foreach (var kind in new[] { "sgd", "adam" })
        {
            var full = StartPoint();
            var scaled = StartPoint();
            ParameterGroup<double>[] groups = [new([full]), new([scaled], lrMultiplier: 0.1)];
            Optimizer<double> optimizer = kind == "sgd" ? new Sgd<double>(groups, 0.1, momentum: 0.9) : new Adam<double>(groups, 0.1);
            ComputeGradient(full);
            ComputeGradient(scaled);
            optimizer.Step();
            var start = StartPoint().Value.ToArray();
            for (int i = 0; i < 2; i++)
            {
                double fullStep = full.Value[i] - start[i], scaledStep = scaled.Value[i] - start[i];
                Assert.AreEqual(0.1 * fullStep, scaledStep, HandComputed, $"{kind}, element {i}");
            }
        }
    }

    [TestMethod]
    public void LrMultiplier_OffsetBranchOfDeformConv2d_MovesTenTimesLess()
    {
        // Two identical layers and inputs; one optimizer puts conv_offset in a 0.1× group.
        static DeformConv2d<double> Layer() => new(2, 3, modulation: true, random: new SeededRandom(11));
        var reference = Layer();
        var split = Layer();
        var x = Tensor<double>.Randn(12, 2, 2, 6, 6);
        var target = Tensor<double>.Randn(13, 2, 3, 6, 6);
        var before = split.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        var plainSgd = new Sgd<double>(reference.Parameters(), 0.05);
        var groups = ParameterGroup<double>.SplitOffsets(split, offsetLrMultiplier: 0.1);
        CollectionAssert.AreEquivalent(split.OffsetParameters.ToArray(), groups[1].Parameters.ToArray());
        var splitSgd = new Sgd<double>(groups, 0.05);
        foreach (var (layer, optimizer) in new (DeformConv2d<double>, Optimizer<double>)[] { (reference, plainSgd), (split, splitSgd) })
        {
            Functional.MseLoss(layer.Forward(x), target).Backward();
            optimizer.Step();
        }
        var referenceState = reference.StateDict();
        foreach (var (name, tensor) in split.StateDict())
        {
            double factor = name.StartsWith("conv_offset.", StringComparison.Ordinal) ? 0.1 : 1.0;
            var old = before[name];
            var moved = tensor.ToArray();
            var referenceMoved = referenceState[name].ToArray();
            Assert.IsTrue(referenceMoved.Zip(old).Any(p => p.First != p.Second), $"{name} moved");
            for (int i = 0; i < old.Length; i++)
                Assert.AreEqual(factor * (referenceMoved[i] - old[i]), moved[i] - old[i], HandComputed, $"{name}[{i}]");
        }
    }

    [TestMethod]
    public void Optimizer_SkipsParametersWithoutGradient_AndRejectsDuplicates()
    {
        var x = StartPoint();
        new Sgd<double>([x], 0.1).Step();
        CollectionAssert.AreEqual(new double[] { 1, -2 }, x.Value.ToArray());
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new Sgd<double>([x, x], 0.1)).Message, "more than one group");
        Assert.AreEqual("nesterov", Assert.ThrowsExactly<ArgumentException>(() => new Sgd<double>([x], 0.1, nesterov: true)).ParamName);
    }

    [TestMethod]
    public void Schedulers_FollowClosedForms_AndMultipliersStillApply()
    {
        var x = StartPoint();
        var sgd = new Sgd<double>([new ParameterGroup<double>([x], lrMultiplier: 0.5)], 0.2);
        var cosine = new CosineAnnealingLR(sgd, tMax: 4, etaMin: 0.0);
        double[] expected = [0.2 * (1 + Math.Cos(Math.PI / 4)) / 2, 0.1, 0.2 * (1 + Math.Cos(3 * Math.PI / 4)) / 2, 0.0];
        foreach (double lr in expected)
        {
            cosine.Step();
            Assert.AreEqual(lr, sgd.LearningRate, HandComputed);
        }
        var step = new StepLR(new Sgd<double>([StartPoint()], 1.0), stepSize: 2, gamma: 0.5);
        Assert.AreEqual(1.0, step.LearningRateAt(1));
        Assert.AreEqual(0.5, step.LearningRateAt(2));
        Assert.AreEqual(0.25, step.LearningRateAt(5));

        // Base lr 0.1 from the cosine at epoch 2, times the group's 0.5: x₀ = 1 − 0.05·3.
        var y = StartPoint();
        var scheduled = new Sgd<double>([new ParameterGroup<double>([y], lrMultiplier: 0.5)], 0.2);
        var schedule = new CosineAnnealingLR(scheduled, tMax: 4);
        schedule.Step();
        schedule.Step();
        Run(y, scheduled, 1);
        Assert.AreEqual(0.85, y.Value[0], HandComputed);
    }
}

using DeformEngine.NN;
using DeformEngine.Optim;
using DeformEngine.Tests.Ops;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.NN;

[TestClass]
public class RoIPoolModuleTests
{
    /// <summary>A zero last layer gives offsets of exactly 0, and a zero shift takes the same
    /// arithmetic as no offset at all, so the first forward is bit for bit the plain pooling.</summary>
    private const double SamePathTolerance = 0;
    /// <summary>Two SGD steps whose learning rates differ by 0.01 from the same gradient: the
    /// displacements agree up to the rounding of p − lr·g.</summary>
    private const double StepRatioTolerance = 1e-9;
    /// <summary>Central differences with eps 1e-6 through two bilinear poolings and a small MLP,
    /// torch.autograd.gradcheck's defaults.</summary>
    private static readonly GradCheckOptions Check = new();

    // RoIs well inside a 7 × 7 map, on two batch items.
    private static readonly Tensor<double> Rois = RoITestData.Rois([0, 0.6, 1.3, 5.2, 4.9], [1, 1.7, 0.4, 4.1, 5.8], [0, 2.2, 2.1, 3.9, 3.3]);

    [TestMethod]
    public void DeformRoIPoolPack_State_HasMmcvNamesAndShapes()
    {
        var pack = new DeformRoIPoolPack<double>(3, outputChannels: 4, deformFcChannels: 16, random: new SeededRandom(1));
        CollectionAssert.AreEqual(
            new[] { "offset_fc.0.weight", "offset_fc.0.bias", "offset_fc.2.weight", "offset_fc.2.bias", "offset_fc.4.weight", "offset_fc.4.bias" },
            pack.StateDict().Keys.ToArray());
        CollectionAssert.AreEqual(new[] { 16, 9 * 4 }, pack.StateDict()["offset_fc.0.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 9 * 2, 16 }, pack.StateDict()["offset_fc.4.weight"].Shape);
        Assert.AreEqual(36 * 16 + 16 + 16 * 16 + 16 + 16 * 18 + 18, pack.ParameterCount);
        CollectionAssert.AreEquivalent(pack.Parameters().ToArray(), pack.OffsetParameters.ToArray());

        var output = pack.Forward(Tensor<double>.Randn(2, 2, 4, 7, 7), Rois);
        CollectionAssert.AreEqual(new[] { 3, 4, 3, 3 }, output.Shape);
        CollectionAssert.AreEqual(new[] { 3, 2, 3, 3 }, pack.LastOffset!.Shape);
    }

    [TestMethod]
    public void ModulatedDeformRoIPoolPack_State_HasMmcvNamesAndShapes()
    {
        var pack = new ModulatedDeformRoIPoolPack<double>((2, 3), outputChannels: 5, deformFcChannels: 8, random: new SeededRandom(2));
        CollectionAssert.AreEqual(
            new[]
            {
                "offset_fc.0.weight", "offset_fc.0.bias", "offset_fc.2.weight", "offset_fc.2.bias", "offset_fc.4.weight", "offset_fc.4.bias",
                "mask_fc.0.weight", "mask_fc.0.bias", "mask_fc.2.weight", "mask_fc.2.bias",
            },
            pack.StateDict().Keys.ToArray());
        CollectionAssert.AreEqual(new[] { 6, 8 }, pack.StateDict()["mask_fc.2.weight"].Shape);
        Assert.IsInstanceOfType<Sigmoid<double>>(pack.MaskFc[3]);
        Assert.AreEqual(30 * 8 + 8 + 8 * 8 + 8 + 8 * 12 + 12 + 30 * 8 + 8 + 8 * 6 + 6, pack.ParameterCount);

        var output = pack.Forward(Tensor<double>.Randn(3, 2, 5, 7, 7), Rois);
        CollectionAssert.AreEqual(new[] { 3, 5, 2, 3 }, output.Shape);
        CollectionAssert.AreEqual(new[] { 3, 1, 2, 3 }, pack.LastMask!.Shape);
    }

    [TestMethod]
    public void DeformPSRoIPoolPack_State_IsTheSymbolsSingleOffsetFc()
    {
        var pack = new DeformPSRoIPoolPack<double>(0.5, pooledSize: 3, outputDim: 2, groupSize: 2, random: new SeededRandom(3));
        CollectionAssert.AreEqual(new[] { "offset_fc.0.weight", "offset_fc.0.bias" }, pack.StateDict().Keys.ToArray());
        CollectionAssert.AreEqual(new[] { 2 * 9, 9 * 2 }, pack.StateDict()["offset_fc.0.weight"].Shape);
        Assert.AreEqual(0.01, DeformPSRoIPoolPack<double>.OffsetLrMultiplier);

        var output = pack.Forward(Tensor<double>.Randn(4, 2, 8, 14, 14), Rois);
        CollectionAssert.AreEqual(new[] { 3, 2, 3, 3 }, output.Shape);
        CollectionAssert.AreEqual(new[] { 3, 2, 3, 3 }, pack.LastTrans!.Shape);

        var mmdet = new DeformPSRoIPoolPack<double>(1.0, pooledSize: 2, outputDim: 3, partSize: 1, offsetFcs: 3, deformFcChannels: 5);
        CollectionAssert.AreEqual(new[] { "offset_fc.0.weight", "offset_fc.0.bias", "offset_fc.2.weight", "offset_fc.2.bias", "offset_fc.4.weight", "offset_fc.4.bias" },
            mmdet.StateDict().Keys.ToArray());
        CollectionAssert.AreEqual(new[] { 2, 5 }, mmdet.StateDict()["offset_fc.4.weight"].Shape);
    }

    [TestMethod]
    public void DeformRoIPoolPack_AtInit_IsAlignedRoIAlign()
    {
        var input = Tensor<double>.Randn(5, 2, 3, 7, 7);
        var pack = new DeformRoIPoolPack<double>(2, 3, deformFcChannels: 8, spatialScale: 0.9, samplingRatio: 2, random: new SeededRandom(5));
        var plain = Functional.DeformRoIPool(input, Rois, null, (2, 2), 0.9, 2);
        TensorAssert.Close(plain, pack.Forward(input, Rois), SamePathTolerance, "first forward");
        TensorAssert.AllEqual(pack.LastOffset!, 0.0, "offsets");
    }

    [TestMethod]
    public void ModulatedDeformRoIPoolPack_AtInit_IsHalfAlignedRoIAlign()
    {
        var input = Tensor<double>.Randn(6, 2, 3, 7, 7);
        var pack = new ModulatedDeformRoIPoolPack<double>(3, 3, deformFcChannels: 8, random: new SeededRandom(6));
        var plain = Functional.DeformRoIPool(input, Rois, null, (3, 3));
        TensorAssert.Close(plain.MulScalar(0.5), pack.Forward(input, Rois), SamePathTolerance, "first forward");
        TensorAssert.AllEqual(pack.LastOffset!, 0.0, "offsets");
        TensorAssert.AllEqual(pack.LastMask!, 0.5, "masks σ(0)");
    }

    [TestMethod]
    public void DeformPSRoIPoolPack_AtInit_IsPlainPSRoIPooling()
    {
        var input = Tensor<double>.Randn(7, 2, 8, 7, 7);
        var pack = new DeformPSRoIPoolPack<double>(1.0, pooledSize: 3, outputDim: 2, groupSize: 2, samplePerPart: 2, random: new SeededRandom(7));
        var plain = Functional.DeformPSRoIPool(input, Rois, null, 1.0, 2, 2, 3, samplePerPart: 2, noTrans: true);
        TensorAssert.Close(plain, pack.Forward(input, Rois), SamePathTolerance, "first forward");
        TensorAssert.AllEqual(pack.LastTrans!, 0.0, "trans");
    }

    [TestMethod]
    public void RoIPoolPacks_AtInit_OnlyTheZeroLayerGetsAGradient()
    {
        // The zero last layer blocks the gradient to the layers before it; it gets one itself
        // (upstream ⊗ its input), so training moves it off zero first.
        var pack = new DeformRoIPoolPack<double>(2, 3, deformFcChannels: 6, samplingRatio: 2, random: new SeededRandom(8));
        pack.Forward(Tensor<double>.Randn(9, 2, 3, 7, 7), Rois).Sum().Backward();
        foreach (var (name, parameter) in pack.NamedParameters())
        {
            bool moves = parameter.Grad!.ToArray().Any(v => v != 0);
            Assert.AreEqual(name.StartsWith("offset_fc.4.", StringComparison.Ordinal), moves, name);
        }
    }

    [TestMethod]
    public void DeformRoIPoolPack_Gradients_MatchFiniteDifferences()
    {
        var pack = new DeformRoIPoolPack<double>(2, 2, deformFcChannels: 4, samplingRatio: 2, random: new SeededRandom(10));
        Randomize(pack.OffsetFc[4], 11);
        AssertGradients(pack, Tensor<double>.Randn(12, 2, 2, 7, 7));
    }

    [TestMethod]
    public void ModulatedDeformRoIPoolPack_Gradients_MatchFiniteDifferences()
    {
        var pack = new ModulatedDeformRoIPoolPack<double>(2, 2, deformFcChannels: 4, samplingRatio: 2, random: new SeededRandom(13));
        Randomize(pack.OffsetFc[4], 14);
        Randomize(pack.MaskFc[2], 15);
        AssertGradients(pack, Tensor<double>.Randn(16, 2, 2, 7, 7));
    }

    [TestMethod]
    public void DeformPSRoIPoolPack_Gradients_MatchFiniteDifferences()
    {
        var pack = new DeformPSRoIPoolPack<double>(1.0, pooledSize: 2, outputDim: 2, groupSize: 2, samplePerPart: 2,
            offsetFcs: 2, deformFcChannels: 4, random: new SeededRandom(17));
        Randomize(pack.OffsetFc[2], 18);
        AssertGradients(pack, Tensor<double>.Randn(19, 2, 8, 7, 7));
    }

    [TestMethod]
    public void DeformPSRoIPoolPack_SplitOffsets_StepsTheOffsetFcAtOneHundredth()
    {
        const double learningRate = 0.5;
        var input = Tensor<double>.Randn(20, 2, 3, 7, 7);
        var slow = new PSHead(Rois);
        var full = new PSHead(Rois);
        var groups = DeformPSRoIPoolPack<double>.SplitOffsets(slow);
        CollectionAssert.AreEquivalent(slow.Pool.OffsetParameters.ToArray(), groups[1].Parameters.ToArray());
        Assert.AreEqual(0.01, groups[1].LrMultiplier);
        Assert.AreEqual(2, groups[0].Parameters.Count, "conv_new_1 weight and bias");

        var slowMoves = StepAndMeasure(slow, new Sgd<double>(groups, learningRate), input);
        var fullMoves = StepAndMeasure(full, new Sgd<double>(DeformPSRoIPoolPack<double>.SplitOffsets(full, 1.0), learningRate), input);
        foreach (var (name, move) in fullMoves)
        {
            double factor = name.StartsWith("pool.offset_fc.", StringComparison.Ordinal) ? 0.01 : 1.0;
            Assert.IsTrue(move.Any(v => v != 0), $"{name} moves");
            for (int i = 0; i < move.Length; i++)
                Assert.AreEqual(factor * move[i], slowMoves[name][i], StepRatioTolerance * Math.Abs(move[i]), $"{name}[{i}]");
        }
    }

    [TestMethod]
    public void RoIPoolPacks_BadArguments_ThrowNamingThem()
    {
        var pack = new DeformRoIPoolPack<double>(2, 3, deformFcChannels: 4);
        var error = Assert.ThrowsExactly<ArgumentException>(() => pack.Forward(Tensor<double>.Randn(21, 2, 4, 7, 7), Rois));
        Assert.AreEqual("input", error.ParamName);
        StringAssert.Contains(error.Message, "[N, 3, H, W]");
        StringAssert.Contains(Assert.ThrowsExactly<NotSupportedException>(() => pack.Forward(Tensor<double>.Randn(22, 2, 3, 7, 7))).Message,
            "Forward(input, rois)");
        Assert.AreEqual("rois", Assert.ThrowsExactly<ArgumentException>(() =>
            pack.Forward(Tensor<double>.Randn(23, 2, 3, 7, 7), Tensor<double>.Zeros(3, 4))).ParamName);
        Assert.AreEqual("outputChannels", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ModulatedDeformRoIPoolPack<double>(2, 0)).ParamName);
        Assert.AreEqual("outputSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DeformRoIPoolPack<double>((2, 0), 3)).ParamName);
        Assert.AreEqual("partSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DeformPSRoIPoolPack<double>(1.0, 2, 3, partSize: -1)).ParamName);
        Assert.AreEqual("input", Assert.ThrowsExactly<ArgumentException>(() =>
            new DeformPSRoIPoolPack<double>(1.0, 2, 3, groupSize: 2).Forward(Tensor<double>.Randn(24, 2, 3, 7, 7), Rois)).ParamName);
    }

    /// <summary>A 1 × 1 convolution (the symbols' conv_new_1) feeding the PS pack.</summary>
    private sealed class PSHead : Module<double>
    {
        private readonly Tensor<double> _rois;

        public PSHead(Tensor<double> rois)
        {
            _rois = rois;
            Conv = RegisterModule("conv_new_1", new Conv2d<double>(3, 4, 1, random: new SeededRandom(25)));
            Pool = RegisterModule("pool", new DeformPSRoIPoolPack<double>(1.0, pooledSize: 2, outputDim: 4, samplePerPart: 2, random: new SeededRandom(26)));
        }

        public Conv2d<double> Conv { get; }
        public DeformPSRoIPoolPack<double> Pool { get; }

        public override Tensor<double> Forward(Tensor<double> input) => Pool.Forward(Conv.Forward(input).Relu(), _rois);
    }

    private static Dictionary<string, double[]> StepAndMeasure(Module<double> model, Optimizer<double> optimizer, Tensor<double> input)
    {
        var before = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Value.ToArray());
        optimizer.ZeroGrad();
        model.Forward(input).Mul(Tensor<double>.Randn(27, 3, 4, 2, 2)).Sum().Backward();
        optimizer.Step();
        return model.NamedParameters().ToDictionary(p => p.Name,
            p => p.Parameter.Value.ToArray().Zip(before[p.Name], (after, start) => after - start).ToArray());
    }

    private static void Randomize(Module<double> layer, long seed)
    {
        foreach (var parameter in layer.Parameters())
            Tensor<double>.Randn(seed++, parameter.Shape).MulScalar(0.5).AsSpan().CopyTo(parameter.AsSpan());
    }

    /// <summary>GradCheck for the input, and the same projection perturbed through each parameter.</summary>
    private static void AssertGradients(RoIPoolModule<double> module, Tensor<double> input)
    {
        var inputCheck = GradCheck.Check(x => module.Forward(x[0], Rois), [input], Check, ["input"]);
        Assert.IsTrue(inputCheck.Passed, inputCheck.ToString());

        module.ZeroGrad();
        var output = module.Forward(input, Rois);
        var weights = Tensor<double>.Randn(Check.Seed, output.Shape);
        output.Backward(weights);
        using var _ = Autograd.NoGrad();
        foreach (var (name, parameter) in module.NamedParameters())
        {
            var analytic = parameter.Grad!.ToArray();
            Assert.IsTrue(analytic.Any(v => v != 0), $"{name} gets a gradient");
            var values = parameter.AsSpan();
            for (int e = 0; e < values.Length; e++)
            {
                double saved = values[e];
                values[e] = saved + Check.Eps;
                double plus = Project(module.Forward(input, Rois), weights);
                values[e] = saved - Check.Eps;
                double minus = Project(module.Forward(input, Rois), weights);
                values[e] = saved;
                double numeric = (plus - minus) / (2 * Check.Eps);
                Assert.AreEqual(numeric, analytic[e], Check.Atol + Check.Rtol * Math.Abs(numeric), $"∂/∂{name}[{e}]");
            }
        }
    }

    private static double Project(Tensor<double> output, Tensor<double> weights) =>
        output.ToArray().Zip(weights.ToArray(), (o, w) => o * w).Sum();
}

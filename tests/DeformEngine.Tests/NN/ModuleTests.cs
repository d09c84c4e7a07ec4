using DeformEngine.NN;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.NN;

[TestClass]
public class ModuleTests
{
    [TestMethod]
    public void Linear_Forward_ShapeAndParameterCount()
    {
        var layer = new Linear<float>(4, 3, random: new SeededRandom(1));
        CollectionAssert.AreEqual(new[] { 2, 5, 3 }, layer.Forward(Tensor<float>.Zeros(2, 5, 4)).Shape);
        Assert.AreEqual(4 * 3 + 3, layer.ParameterCount);
        Assert.AreEqual(12, new Linear<float>(4, 3, bias: false, random: new SeededRandom(1)).ParameterCount);
        float bound = 1 / MathF.Sqrt(4);
        Assert.IsTrue(layer.Weight.Value.ToArray().All(v => Math.Abs(v) <= bound), "PyTorch init U(−1/√in, 1/√in)");
    }

    [TestMethod]
    public void Conv2d_Forward_ShapeAndParameterCount()
    {
        var conv = new Conv2d<float>(4, 6, kernelSize: (3, 5), stride: 2, padding: (1, 2), groups: 2, random: new SeededRandom(2));
        CollectionAssert.AreEqual(new[] { 1, 6, 4, 5 }, conv.Forward(Tensor<float>.Randn(3, 1, 4, 8, 9)).Shape);
        Assert.AreEqual(6 * 2 * 3 * 5 + 6, conv.ParameterCount);
        CollectionAssert.AreEqual(new[] { "weight", "bias" }, conv.StateDict().Keys.ToArray());
    }

    [TestMethod]
    public void BatchNorm2d_StateAndModes_FollowPyTorch()
    {
        var bn = new BatchNorm2d<double>(3);
        CollectionAssert.AreEqual(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }, bn.StateDict().Keys.ToArray());
        Assert.AreEqual(6, bn.ParameterCount);
        var x = Tensor<double>.Randn(4, 2, 3, 4, 4).AddScalar(5);
        var trained = bn.Forward(x);
        CollectionAssert.AreEqual(x.Shape, trained.Shape);
        Assert.AreEqual(1.0, bn.NumBatchesTracked!.Item());
        Assert.IsTrue(bn.RunningMean!.ToArray().All(m => m > 0.3), "running mean moved 10% towards the batch mean ≈ 5");
        bn.Eval();
        var evaluated = bn.Forward(x);
        Assert.AreEqual(1.0, bn.NumBatchesTracked.Item(), "eval does not count batches");
        Assert.AreNotEqual(trained[0, 0, 0, 0], evaluated[0, 0, 0, 0], "eval normalises with running statistics");
    }

    [TestMethod]
    public void Pooling_ReLU_Flatten_Dropout_Shapes()
    {
        var x = Tensor<float>.Randn(5, 2, 3, 8, 6);
        CollectionAssert.AreEqual(new[] { 2, 3, 4, 3 }, new MaxPool2d<float>(2).Forward(x).Shape);
        CollectionAssert.AreEqual(new[] { 2, 3, 4, 3 }, new AvgPool2d<float>(3, 2, 1).Forward(x).Shape);
        CollectionAssert.AreEqual(new[] { 2, 3, 1, 1 }, new AdaptiveAvgPool2d<float>(1).Forward(x).Shape);
        CollectionAssert.AreEqual(new[] { 2, 144 }, new Flatten<float>().Forward(x).Shape);
        Assert.IsTrue(new ReLU<float>().Forward(x).ToArray().All(v => v >= 0));
        var dropout = new Dropout<float>(0.5, seed: 3);
        Assert.IsTrue(dropout.Forward(x).ToArray().Any(v => v == 0));
        dropout.Eval();
        Assert.AreSame(x, dropout.Forward(x));
        foreach (Module<float> m in new Module<float>[] { new MaxPool2d<float>(2), new ReLU<float>(), new Flatten<float>(), dropout })
            Assert.AreEqual(0, m.ParameterCount);
    }

    [TestMethod]
    public void Sequential_NamesChildrenByIndex_AndTrainEvalRecurses()
    {
        var model = new Sequential<float>(
            new Conv2d<float>(1, 4, 3, padding: 1, random: new SeededRandom(4)),
            new BatchNorm2d<float>(4),
            new ReLU<float>(),
            new Flatten<float>(),
            new Linear<float>(4 * 5 * 5, 2, random: new SeededRandom(5)));
        CollectionAssert.AreEqual(new[] { 3, 2 }, model.Forward(Tensor<float>.Randn(6, 3, 1, 5, 5)).Shape);
        CollectionAssert.AreEqual(
            new[] { "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias" },
            model.StateDict().Keys.ToArray());
        Assert.AreEqual(4 * 9 + 4 + 8 + 100 * 2 + 2, model.ParameterCount);
        model.Eval();
        Assert.IsTrue(model.Modules().All(m => !m.Training));
        model.Train();
        Assert.IsTrue(model.Modules().All(m => m.Training));
    }

    [TestMethod]
    public void LoadStateDict_CopiesValues_AndReportsMismatches()
    {
        var source = new Linear<double>(3, 2, random: new SeededRandom(7));
        var target = new Linear<double>(3, 2, random: new SeededRandom(8));
        var result = target.LoadStateDict(source.StateDict());
        Assert.AreEqual(0, result.MissingKeys.Count + result.UnexpectedKeys.Count);
        CollectionAssert.AreEqual(source.Weight.Value.ToArray(), target.Weight.Value.ToArray());

        var partial = new Dictionary<string, Tensor<double>> { ["weight"] = Tensor<double>.Zeros(2, 3), ["extra"] = Tensor<double>.Zeros(1) };
        var strict = Assert.ThrowsExactly<ArgumentException>(() => target.LoadStateDict(partial));
        StringAssert.Contains(strict.Message, "Missing: bias");
        StringAssert.Contains(strict.Message, "Unexpected: extra");
        var lenient = target.LoadStateDict(partial, strict: false);
        CollectionAssert.AreEqual(new[] { "bias" }, lenient.MissingKeys.ToArray());
        TensorAssert.AllEqual(target.Weight.Value, 0.0, "loaded weight");

        var badShape = new Dictionary<string, Tensor<double>> { ["weight"] = Tensor<double>.Zeros(3, 2), ["bias"] = Tensor<double>.Zeros(2) };
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => target.LoadStateDict(badShape)).Message,
            "'weight' has shape [3, 2], the module expects [2, 3]");
    }

    [TestMethod]
    public void Parameter_IsLeafRequiringGrad_AndConvertsToTensor()
    {
        var parameter = new Parameter<double>(Tensor<double>.Ones(2).MulScalar(3));
        Assert.IsTrue(parameter.Value.IsLeaf && parameter.Value.RequiresGrad);
        Tensor<double> asTensor = parameter;
        asTensor.Mul(asTensor).Sum().Backward();
        CollectionAssert.AreEqual(new double[] { 6, 6 }, parameter.Grad!.ToArray());
    }

    [TestMethod]
    public void Init_ManualSeed_MakesDefaultInitReproducible()
    {
        Init.ManualSeed(42);
        var first = new Linear<float>(3, 3).Weight.Value.ToArray();
        Init.ManualSeed(42);
        CollectionAssert.AreEqual(first, new Linear<float>(3, 3).Weight.Value.ToArray());
        Assert.AreEqual(0.0, Init.Normal<double>(new SeededRandom(9), 2.0, 20000).Mean().Item(), 0.05);
    }
}

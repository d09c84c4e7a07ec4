using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Hardening;

/// <summary>Empty batches (N = 0) and empty RoI lists (K = 0), as torchvision's own tests run them:
/// every operator returns an empty output of the right shape, and its backward returns empty input
/// gradients and zero parameter gradients, on both CPU paths.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class BatchZeroTests
{
    private static Tensor<double> Leaf(Tensor<double> t)
    {
        t.RequiresGrad = true;
        return t;
    }

    private static void AssertShape(int[] expected, Tensor<double> actual, string what) =>
        CollectionAssert.AreEqual(expected, actual.Shape, $"{what}: shape {ShapeMath.Format(actual.Shape)}");

    private static void AssertZeroGrad(Tensor<double> leaf, string what)
    {
        Assert.IsNotNull(leaf.Grad, $"{what}: gradient missing");
        AssertShape(leaf.Shape, leaf.Grad, what);
        TensorAssert.AllEqual(leaf.Grad, 0.0, what);
    }

    [TestMethod]
    [DynamicData(nameof(EnginePaths.Both), typeof(EnginePaths))]
    public void DeformConv2d_BatchZero_EmptyOutputAndZeroGradients(bool reference)
    {
        var input = Leaf(Tensor<double>.Zeros(0, 4, 7, 6));
        var offset = Leaf(Tensor<double>.Zeros(0, 2 * 2 * 9, 7, 6));
        var mask = Leaf(Tensor<double>.Zeros(0, 2 * 9, 7, 6));
        var weight = Leaf(Tensor<double>.Randn(1, 6, 2, 3, 3));
        var bias = Leaf(Tensor<double>.Randn(2, 6));
        var output = EnginePaths.Run(reference, () =>
        {
            var y = Functional.DeformConv2d(input, offset, weight, bias, padding: (1, 1), mask: mask);
            y.Backward(Tensor<double>.Zeros(y.Shape));
            return y;
        });
        AssertShape([0, 6, 7, 6], output, "output");
        foreach (var (leaf, name) in new[] { (input, "input"), (offset, "offset"), (mask, "mask"), (weight, "weight"), (bias, "bias") })
            AssertZeroGrad(leaf, name);
    }

    [TestMethod]
    [DynamicData(nameof(EnginePaths.Both), typeof(EnginePaths))]
    public void DeformConv2d_BatchZeroWeightGradientOnly_ZeroWeightGradient(bool reference)
    {
        var weight = Leaf(Tensor<double>.Randn(1, 3, 2, 3, 3));
        EnginePaths.Run(reference, () =>
        {
            var y = Functional.DeformConv2d(Tensor<double>.Zeros(0, 2, 5, 5), Tensor<double>.Zeros(0, 18, 3, 3), weight);
            y.Backward(Tensor<double>.Zeros(y.Shape));
            return y;
        });
        AssertZeroGrad(weight, "weight");
    }

    [TestMethod]
    [DynamicData(nameof(EnginePaths.Both), typeof(EnginePaths))]
    public void Conv2d_BatchZero_EmptyOutputAndZeroGradients(bool reference)
    {
        foreach (var (kernel, padding, stride) in new[] { (3, 1, 1), (1, 0, 1), (2, 0, 2) })
        {
            var input = Leaf(Tensor<double>.Zeros(0, 4, 6, 5));
            var weight = Leaf(Tensor<double>.Randn(3, 6, 2, kernel, kernel));
            var bias = Leaf(Tensor<double>.Randn(4, 6));
            var output = EnginePaths.Run(reference, () =>
            {
                var y = Functional.Conv2d(input, weight, bias, (stride, stride), (padding, padding), groups: 2);
                y.Backward(Tensor<double>.Zeros(y.Shape));
                return y;
            });
            int outH = (6 + 2 * padding - kernel) / stride + 1, outW = (5 + 2 * padding - kernel) / stride + 1;
            AssertShape([0, 6, outH, outW], output, $"k{kernel} output");
            AssertZeroGrad(input, $"k{kernel} input");
            AssertZeroGrad(weight, $"k{kernel} weight");
            AssertZeroGrad(bias, $"k{kernel} bias");
        }
    }

    [TestMethod]
    public void BilinearSample_BatchZeroOrNoPoints_EmptyOutput()
    {
        foreach (var (n, p) in new[] { (0, 3), (2, 0) })
        {
            var input = Leaf(Tensor<double>.Randn(1, n, 2, 4, 4));
            var coords = Leaf(Tensor<double>.Rand(2, n, p, 2));
            var y = Functional.BilinearSample(input, coords);
            AssertShape([n, 2, p], y, "output");
            y.Backward(Tensor<double>.Zeros(y.Shape));
            AssertZeroGrad(input, "input");
            AssertZeroGrad(coords, "coords");
        }
    }

    [TestMethod]
    public void Pooling_BatchZero_EmptyOutputAndEmptyGradient()
    {
        var cases = new (string Name, Func<Tensor<double>, Tensor<double>> Op, int[] Shape)[]
        {
            ("MaxPool2d", x => Functional.MaxPool2d(x, (2, 2)), [0, 3, 3, 2]),
            ("AvgPool2d", x => Functional.AvgPool2d(x, (3, 3), (1, 1), (1, 1)), [0, 3, 6, 5]),
            ("AdaptiveAvgPool2d", x => Functional.AdaptiveAvgPool2d(x, (2, 3)), [0, 3, 2, 3]),
        };
        foreach (var (name, op, shape) in cases)
        {
            var input = Leaf(Tensor<double>.Zeros(0, 3, 6, 5));
            var y = op(input);
            AssertShape(shape, y, name);
            y.Backward(Tensor<double>.Zeros(y.Shape));
            AssertZeroGrad(input, name);
        }
    }

    [TestMethod]
    public void LinearAndLosses_ZeroRows_EmptyOrZeroResults()
    {
        var input = Leaf(Tensor<double>.Zeros(0, 4));
        var weight = Leaf(Tensor<double>.Randn(1, 3, 4));
        var bias = Leaf(Tensor<double>.Randn(2, 3));
        var y = Functional.Linear(input, weight, bias);
        AssertShape([0, 3], y, "Linear");
        y.Backward(Tensor<double>.Zeros(y.Shape));
        AssertZeroGrad(input, "Linear input");
        AssertZeroGrad(weight, "Linear weight");
        AssertZeroGrad(bias, "Linear bias");

        var logits = Leaf(Tensor<double>.Zeros(0, 5));
        var sum = Functional.CrossEntropy(logits, [], Reduction.Sum);
        Assert.AreEqual(0.0, sum.Item(), "CrossEntropy sum of no rows");
        sum.Backward();
        AssertZeroGrad(logits, "CrossEntropy logits");
        AssertShape([0], Functional.CrossEntropy(Tensor<double>.Zeros(0, 5), [], Reduction.None), "CrossEntropy none");
        Assert.AreEqual(0.0, Functional.MseLoss(Tensor<double>.Zeros(0, 2), Tensor<double>.Zeros(0, 2), Reduction.Sum).Item(), "MseLoss sum");
        Assert.AreEqual(0.0, Functional.CosineMimicLoss(Tensor<double>.Zeros(0, 3), Tensor<double>.Zeros(0, 3), Reduction.Sum).Item(), "CosineMimicLoss sum");
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void BatchNorm2d_BatchZero_EmptyOutputZeroGradientsRunningStatisticsKept(bool training)
    {
        var input = Leaf(Tensor<double>.Zeros(0, 3, 4, 4));
        var weight = Leaf(Tensor<double>.Ones(3));
        var bias = Leaf(Tensor<double>.Zeros(3));
        var runningMean = Tensor<double>.FromArray([0.5, -1, 2], 3);
        var runningVar = Tensor<double>.FromArray([1.5, 2, 3], 3);
        var y = Functional.BatchNorm2d(input, runningMean, runningVar, weight, bias, training);
        AssertShape([0, 3, 4, 4], y, "output");
        y.Backward(Tensor<double>.Zeros(y.Shape));
        AssertZeroGrad(input, "input");
        AssertZeroGrad(weight, "weight");
        AssertZeroGrad(bias, "bias");
        CollectionAssert.AreEqual(new[] { 0.5, -1, 2 }, runningMean.ToArray(), "running mean (PyTorch leaves it)");
        CollectionAssert.AreEqual(new[] { 1.5, 2, 3 }, runningVar.ToArray(), "running variance (PyTorch leaves it)");
    }

    [TestMethod]
    [DynamicData(nameof(EnginePaths.Both), typeof(EnginePaths))]
    public void Modules_BatchZero_EmptyOutputAndZeroParameterGradients(bool reference)
    {
        var models = new (string Name, DeformEngine.NN.Module<double> Model, int[] Input, int[] Output)[]
        {
            ("DeformConv2d module (DCNv2)", new DeformEngine.NN.DeformConv2d<double>(3, 4, modulation: true, bias: true, random: new SeededRandom(1)), [0, 3, 6, 5], [0, 4, 6, 5]),
            ("ResNet with a DCN stage", new DeformEngine.NN.ResNet<double>(new DeformEngine.NN.ResNetConfig
            {
                Layers = [1, 1], Widths = [4, 8], InChannels = 2, NumClasses = 3, SmallStem = true, DcnStages = [2], Seed = 3,
            }), [0, 2, 8, 8], [0, 3]),
        };
        foreach (var (name, model, inputShape, outputShape) in models)
        {
            var output = EnginePaths.Run(reference, () =>
            {
                var y = model.Forward(Tensor<double>.Zeros(inputShape));
                y.Backward(Tensor<double>.Zeros(y.Shape));
                return y;
            });
            AssertShape(outputShape, output, name);
            foreach (var (parameterName, parameter) in model.NamedParameters())
                if (parameter.Value.Grad is { } grad) TensorAssert.AllEqual(grad, 0.0, $"{name}: {parameterName}");
        }
    }

    [TestMethod]
    public void Flatten_BatchZero_KeepsTheCollapsedSize()
    {
        AssertShape([0, 8], Tensor<double>.Zeros(0, 8, 1, 1).Flatten(), "[0, 8, 1, 1] from axis 1");
        AssertShape([0, 12], Tensor<double>.Zeros(0, 3, 4).Flatten(), "[0, 3, 4] from axis 1");
        AssertShape([2, 0], Tensor<double>.Zeros(2, 0, 5).Flatten(), "[2, 0, 5] from axis 1");
    }

    [TestMethod]
    public void Dropout_BatchZero_EmptyOutput()
    {
        AssertShape([0, 3, 4, 4], Functional.Dropout(Tensor<double>.Zeros(0, 3, 4, 4), 0.5, true, new SeededRandom(1)), "Dropout");
    }

    [TestMethod]
    public void RoIOperators_NoRois_EmptyOutputAndZeroInputGradient()
    {
        var rois = Tensor<double>.Zeros(0, 5);
        var cases = new (string Name, Func<Tensor<double>, Tensor<double>> Op, int[] Shape)[]
        {
            ("RoIAlign", x => Functional.RoIAlign(x, rois, (2, 2), 1.0, 2, true), [0, 8, 2, 2]),
            ("PSRoIAlign", x => Functional.PSRoIAlign(x, rois, (2, 2), 1.0, 2), [0, 2, 2, 2]),
            ("DeformRoIPool", x => Functional.DeformRoIPool(x, rois, Tensor<double>.Zeros(0, 2, 2, 2), (2, 2), 1.0, 2), [0, 8, 2, 2]),
            ("ModulatedDeformRoIPool", x => Functional.ModulatedDeformRoIPool(x, rois, null, Tensor<double>.Zeros(0, 1, 2, 2), (2, 2), 1.0, 2), [0, 8, 2, 2]),
            ("DeformPSRoIPool", x => Functional.DeformPSRoIPool(x, rois, null, 1.0, 2, 2, 2, 2, 2, 0.1, true), [0, 2, 2, 2]),
        };
        foreach (int batch in new[] { 0, 2 })
            foreach (var (name, op, shape) in cases)
            {
                var input = Leaf(Tensor<double>.Randn(3, batch, 8, 5, 5));
                var y = op(input);
                AssertShape(shape, y, $"{name} N{batch}");
                y.Backward(Tensor<double>.Zeros(y.Shape));
                AssertZeroGrad(input, $"{name} N{batch}");
            }
    }
}

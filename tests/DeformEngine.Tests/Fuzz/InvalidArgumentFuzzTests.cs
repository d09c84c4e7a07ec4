namespace DeformEngine.Tests.Fuzz;

/// <summary>Seeded random invalid calls of every public operator: each must throw an
/// <see cref="ArgumentException"/> (or a subclass) that names one of the operator's parameters in
/// <see cref="ArgumentException.ParamName"/> and in its message, never another exception, a hang or
/// a result.</summary>
[TestClass]
public class InvalidArgumentFuzzTests
{
    private const int Draws = 400;

    /// <summary>A way to break one operator's call, given a generator for the bad values.</summary>
    private sealed record Breaker(string Operator, string[] Parameters, Func<SeededRandom, Action> Make);

    private static Tensor<double> Z(params int[] shape) => Tensor<double>.Zeros(shape);

    /// <summary>A value that is wrong for a size: 0, negative, or huge.</summary>
    private static int BadSize(SeededRandom rng) => new[] { 0, -1, -rng.NextInt(1000) - 2, int.MinValue }[rng.NextInt(4)];

    /// <summary>A negative padding.</summary>
    private static int BadPadding(SeededRandom rng) => new[] { -1, -rng.NextInt(1000) - 2, int.MinValue }[rng.NextInt(3)];

    /// <summary>A dimension that differs from <paramref name="right"/>.</summary>
    private static int Other(SeededRandom rng, int right) => right + 1 + rng.NextInt(3);

    private static double BadScale(SeededRandom rng) => new[] { 0, -1, double.NaN, double.PositiveInfinity, double.NegativeInfinity }[rng.NextInt(5)];

    private static readonly string[] ConvParameters = ["input", "weight", "bias", "stride", "padding", "dilation", "groups"];
    private static readonly string[] DeformParameters = ["input", "offset", "weight", "bias", "stride", "padding", "dilation", "mask"];
    private static readonly string[] PoolParameters = ["input", "kernelSize", "stride", "padding", "outputSize"];
    private static readonly string[] RoIParameters = ["input", "rois", "offset", "mask", "outputSize", "spatialScale", "samplingRatio", "gamma",
        "trans", "outputDim", "groupSize", "pooledSize", "partSize", "samplePerPart", "transStd"];

    private static readonly Breaker[] Breakers =
    [
        new("DeformConv2d", DeformParameters, rng => () => Functional.DeformConv2d(Z(1, 2, 5, 5), Z(1, Other(rng, 18), 5, 5), Z(3, 2, 3, 3), padding: (1, 1))),
        new("DeformConv2d", DeformParameters, rng => () => Functional.DeformConv2d(Z(1, 2, 5, 5), Z(1, 18, Other(rng, 5), 5), Z(3, 2, 3, 3), padding: (1, 1))),
        new("DeformConv2d", DeformParameters, rng => () => Functional.DeformConv2d(Z(1, 2, 5, 5), Z(1, 18, 5, 5), Z(3, 2, 3, 3), padding: (1, 1), mask: Z(1, Other(rng, 9), 5, 5))),
        new("DeformConv2d", DeformParameters, rng => () => Functional.DeformConv2d(Z(1, 2, 5, 5), Z(1, 18, 5, 5), Z(3, 2, 3, 3), Z(Other(rng, 3)), padding: (1, 1))),
        new("DeformConv2d", DeformParameters, rng => () => Functional.DeformConv2d(Z(1, 2, 5, 5), Z(1, 18, 3, 3), Z(3, 2, 3, 3), stride: (BadSize(rng), 1))),
        new("DeformConv2d", DeformParameters, rng => () => Functional.DeformConv2d(Z(1, 2, 5, 5), Z(1, 18, 3, 3), Z(3, 2, 3, 3), dilation: (1, BadSize(rng)))),
        new("DeformConv2d", DeformParameters, rng => () => Functional.DeformConv2d(Z(1, 2, 2, 2), Z(1, 18, 1, 1), Z(3, 2, 3, 3), dilation: (1 + rng.NextInt(int.MaxValue - 1), 1))),
        new("DeformConv2d", DeformParameters, rng => () => Functional.DeformConv2d(Z(1, 3, 5, 5), Z(1, 18, 3, 3), Z(3, 2, 3, 3))),
        new("DeformConv2d", DeformParameters, rng => () => Functional.DeformConv2d(Z(1, 2, 5), Z(1, 18, 3, 3), Z(3, 2, 3, 3))),
        new("Conv2d", ConvParameters, rng => () => Functional.Conv2d(Z(1, 4, 5, 5), Z(3, 2, 3, 3), groups: 2 + rng.NextInt(5))),
        new("Conv2d", ConvParameters, rng => () => Functional.Conv2d(Z(1, 4, 5, 5), Z(3, 4, 3, 3), groups: BadSize(rng))),
        new("Conv2d", ConvParameters, rng => () => Functional.Conv2d(Z(1, 4, 5, 5), Z(3, 4, 3, 3), padding: (BadPadding(rng), 0))),
        new("Conv2d", ConvParameters, rng => () => Functional.Conv2d(Z(1, 4, 5, 5), Z(3, 4, 3, 3), padding: (1 << (15 + rng.NextInt(16)), 1 << 15))),
        new("Conv2d", ConvParameters, rng => () => Functional.Conv2d(Z(1, 4, 2, 2), Z(3, 4, 3 + rng.NextInt(5), 3))),
        new("Conv2d", ConvParameters, rng => () => Functional.Conv2d(Z(1, 4, 5, 5), Z(3, 4, 3, 3), Z(3, Other(rng, 1)))),
        new("BilinearSample", ["input", "coords"], rng => () => Functional.BilinearSample(Z(2, 1, 3, 3), Z(Other(rng, 2), 4, 2))),
        new("BilinearSample", ["input", "coords"], rng => () => Functional.BilinearSample(Z(2, 1, 3, 3), Z(2, 4, Other(rng, 2)))),
        new("BilinearSample", ["input", "coords"], rng => () => Functional.BilinearSample(Z(2, 1, 3), Z(2, 4, 2))),
        new("MaxPool2d", PoolParameters, rng => () => Functional.MaxPool2d(Z(1, 1, 4, 4), (BadSize(rng), 2))),
        new("MaxPool2d", PoolParameters, rng => () => Functional.MaxPool2d(Z(1, 1, 4, 4), (2, 2), (1, BadSize(rng)))),
        new("MaxPool2d", PoolParameters, rng => () => Functional.MaxPool2d(Z(1, 1, 4, 4), (2, 2), (1, 1), (2 + rng.NextInt(int.MaxValue - 2), 0))),
        new("MaxPool2d", PoolParameters, rng => () => Functional.MaxPool2d(Z(1, 1, 4, 4), (5 + rng.NextInt(int.MaxValue - 5), 1))),
        new("AvgPool2d", PoolParameters, rng => () => Functional.AvgPool2d(Z(1, 1, 4, 4), (2, 2), (1, 1), (1 << (1 + rng.NextInt(30)), 1 << 30))),
        new("AvgPool2d", PoolParameters, rng => () => Functional.AvgPool2d(Z(1, 1, 4, 4), (2, BadSize(rng)))),
        new("AdaptiveAvgPool2d", PoolParameters, rng => () => Functional.AdaptiveAvgPool2d(Z(1, 1, 4, 4), (BadSize(rng), 1))),
        new("AdaptiveAvgPool2d", PoolParameters, rng => () => Functional.AdaptiveAvgPool2d(Z(1, 1, 4, 4), (1 << (16 + rng.NextInt(15)), 1 << 16))),
        new("Linear", ["input", "weight", "bias"], rng => () => Functional.Linear(Z(2, 3), Z(4, Other(rng, 3)))),
        new("Linear", ["input", "weight", "bias"], rng => () => Functional.Linear(Z(2, 3), Z(4, 3), Z(Other(rng, 4)))),
        new("BatchNorm2d", ["input", "runningMean", "runningVar", "weight", "bias", "momentum", "eps"],
            rng => () => Functional.BatchNorm2d(Z(2, 3, 2, 2), null, null, training: true, eps: BadScale(rng) - 1)),
        new("BatchNorm2d", ["input", "runningMean", "runningVar", "weight", "bias", "momentum", "eps"],
            rng => () => Functional.BatchNorm2d(Z(2, 3, 2, 2), Z(Other(rng, 3)), Z(3), training: false)),
        new("CrossEntropy", ["logits", "targets", "reduction"], rng => () => Functional.CrossEntropy(Z(2, 3), [0, 3 + rng.NextInt(100)])),
        new("CrossEntropy", ["logits", "targets", "reduction"], rng => () => Functional.CrossEntropy(Z(2, 3), [0, 1], (Reduction)(3 + rng.NextInt(100)))),
        new("MseLoss", ["input", "target", "reduction"], rng => () => Functional.MseLoss(Z(2, 3), Z(2, Other(rng, 3)))),
        new("CosineMimicLoss", ["a", "b", "reduction", "eps"], rng => () => Functional.CosineMimicLoss(Z(2, 3), Z(2, 3), eps: -rng.NextDouble())),
        new("Dropout", ["input", "p", "training", "random"], rng => () => Functional.Dropout(Z(2, 3), 1 + rng.NextDouble() + 1e-9, true, new SeededRandom(1))),
        new("RoIAlign", RoIParameters, rng => () => Functional.RoIAlign(Z(1, 2, 5, 5), Tensor<double>.FromArray([rng.NextInt(5) + 1, 0, 0, 2, 2], 1, 5), (2, 2))),
        new("RoIAlign", RoIParameters, rng => () => Functional.RoIAlign(Z(1, 2, 5, 5), Tensor<double>.FromArray([0, 3, 0, 2 - rng.NextDouble() - 1e-9, 2], 1, 5), (2, 2))),
        new("RoIAlign", RoIParameters, rng => () => Functional.RoIAlign(Z(1, 2, 5, 5), Tensor<double>.FromArray([0, double.NaN, 0, 2, 2], 1, 5), (2, 2))),
        new("RoIAlign", RoIParameters, rng => () => Functional.RoIAlign(Z(1, 2, 5, 5), Z(1, 5), (2, 2), BadScale(rng))),
        new("RoIAlign", RoIParameters, rng => () => Functional.RoIAlign(Z(1, 2, 5, 5), Z(1, 5), (2, 2), samplingRatio: (1 << 15) + 1 + rng.NextInt(1000))),
        new("RoIAlign", RoIParameters, rng => () => Functional.RoIAlign(Z(1, 2, 5, 5), Z(1, 5), (BadSize(rng), 2))),
        new("RoIAlign", RoIParameters, rng => () => Functional.RoIAlign(Z(1, 2, 5, 5), Z(1, Other(rng, 5)), (2, 2))),
        new("PSRoIAlign", RoIParameters, rng => () => Functional.PSRoIAlign(Z(1, 4 * (1 + rng.NextInt(3)) + 1, 5, 5), Z(1, 5), (2, 2))),
        new("DeformRoIPool", RoIParameters, rng => () => Functional.DeformRoIPool(Z(1, 2, 5, 5), Z(2, 5), Z(2, 2, 2, Other(rng, 2)), (2, 2))),
        new("DeformRoIPool", RoIParameters, rng => () => Functional.DeformRoIPool(Z(1, 2, 5, 5), Z(2, 5), Z(2, 2, 2, 2), (2, 2), gamma: BadScale(rng) * double.PositiveInfinity)),
        new("ModulatedDeformRoIPool", RoIParameters, rng => () => Functional.ModulatedDeformRoIPool(Z(1, 2, 5, 5), Z(2, 5), null, Z(2, Other(rng, 1), 2, 2), (2, 2))),
        new("DeformPSRoIPool", RoIParameters, rng => () => Functional.DeformPSRoIPool(Z(1, 4, 5, 5), Z(1, 5), null, 1.0, 1 + rng.NextInt(3), 1, 2, noTrans: true)),
        new("DeformPSRoIPool", RoIParameters, rng => () => Functional.DeformPSRoIPool(Z(1, 4, 5, 5), Z(1, 5), null, 1.0, 1, 2, 2, samplePerPart: BadSize(rng), noTrans: true)),
        new("DeformPSRoIPool", RoIParameters, rng => () => Functional.DeformPSRoIPool(Z(1, 4, 5, 5), Z(1, 5), Z(1, 2, 2, Other(rng, 2)), 1.0, 1, 2, 2)),
    ];

    [TestMethod]
    public void Breakers_CoverEveryPublicOperator()
    {
        string[] operators = ["DeformConv2d", "Conv2d", "BilinearSample", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Linear",
            "BatchNorm2d", "CrossEntropy", "MseLoss", "CosineMimicLoss", "Dropout", "RoIAlign", "PSRoIAlign", "DeformRoIPool",
            "ModulatedDeformRoIPool", "DeformPSRoIPool"];
        CollectionAssert.AreEquivalent(operators, Breakers.Select(b => b.Operator).Distinct().ToArray());
    }

    [TestMethod]
    public void RandomInvalidCalls_ThrowArgumentExceptionNamingAParameter()
    {
        var rng = new SeededRandom(4242);
        for (int draw = 0; draw < Draws; draw++)
        {
            var breaker = Breakers[rng.NextInt(Breakers.Length)];
            var call = breaker.Make(rng);
            Exception? caught = null;
            try
            {
                call();
            }
            catch (Exception e)
            {
                caught = e;
            }
            string what = $"draw {draw}, {breaker.Operator}";
            Assert.IsNotNull(caught, $"{what}: returned a result");
            Assert.IsInstanceOfType<ArgumentException>(caught, $"{what}: {caught.GetType().Name}: {caught.Message}");
            var error = (ArgumentException)caught;
            CollectionAssert.Contains(breaker.Parameters, error.ParamName, $"{what}: ParamName '{error.ParamName}' ({error.Message})");
            StringAssert.Contains(error.Message, error.ParamName!, $"{what}: the message names the parameter");
        }
    }
}

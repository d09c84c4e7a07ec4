using DeformEngine.NN;

namespace DeformEngine.Tests.Hardening;

/// <summary>Arguments that the first Forward would reject are rejected where they are given: the
/// module constructors and the losses' <see cref="Reduction"/>, each naming the caller's argument.</summary>
[TestClass]
public class ConstructorValidationTests
{
    private static void Named<TException>(string argument, Action action) where TException : ArgumentException
    {
        var error = Assert.Throws<TException>(action);
        Assert.AreEqual(argument, error.ParamName, error.Message);
        StringAssert.Contains(error.Message, argument);
    }

    private static void Named(string argument, Action action) => Named<ArgumentException>(argument, action);

    public static IEnumerable<object[]> Constructors =>
    [
        ["BatchNorm2d eps −1", "eps", (Action)(() => _ = new BatchNorm2d<float>(3, eps: -1))],
        ["BatchNorm2d eps NaN", "eps", (Action)(() => _ = new BatchNorm2d<float>(3, eps: double.NaN))],
        ["BatchNorm2d momentum NaN", "momentum", (Action)(() => _ = new BatchNorm2d<float>(3, momentum: double.NaN))],
        ["BatchNorm2d momentum 2", "momentum", (Action)(() => _ = new BatchNorm2d<float>(3, momentum: 2))],
        ["MaxPool2d kernel 0", "kernelSize", (Action)(() => _ = new MaxPool2d<float>(0))],
        ["MaxPool2d stride −1", "stride", (Action)(() => _ = new MaxPool2d<float>(2, stride: -1))],
        ["MaxPool2d padding −1", "padding", (Action)(() => _ = new MaxPool2d<float>(2, padding: -1))],
        ["MaxPool2d padding past half the kernel", "padding", (Action)(() => _ = new MaxPool2d<float>(3, padding: 2))],
        ["AvgPool2d kernel (2, 0)", "kernelSize", (Action)(() => _ = new AvgPool2d<float>((2, 0)))],
        ["AvgPool2d padding > kernel / 2", "padding", (Action)(() => _ = new AvgPool2d<float>(2, padding: 2))],
        ["AvgPool2d stride 0", "stride", (Action)(() => _ = new AvgPool2d<float>(2, stride: (1, 0)))],
        ["AdaptiveAvgPool2d output 0", "outputSize", (Action)(() => _ = new AdaptiveAvgPool2d<float>(0))],
        ["DeformRoIPoolPack spatialScale 0", "spatialScale", (Action)(() => _ = new DeformRoIPoolPack<float>(2, 4, 8, spatialScale: 0))],
        ["DeformRoIPoolPack spatialScale NaN", "spatialScale", (Action)(() => _ = new DeformRoIPoolPack<float>(2, 4, 8, spatialScale: double.NaN))],
        ["DeformRoIPoolPack gamma NaN", "gamma", (Action)(() => _ = new DeformRoIPoolPack<float>(2, 4, 8, gamma: double.NaN))],
        ["DeformRoIPoolPack samplingRatio 2^20", "samplingRatio", (Action)(() => _ = new DeformRoIPoolPack<float>(2, 4, 8, samplingRatio: 1 << 20))],
        ["ModulatedDeformRoIPoolPack spatialScale 0", "spatialScale", (Action)(() => _ = new ModulatedDeformRoIPoolPack<float>(2, 4, 8, spatialScale: 0))],
        ["ModulatedDeformRoIPoolPack gamma Inf", "gamma", (Action)(() => _ = new ModulatedDeformRoIPoolPack<float>(2, 4, 8, gamma: double.PositiveInfinity))],
        ["ModulatedDeformRoIPoolPack samplingRatio 2^20", "samplingRatio", (Action)(() => _ = new ModulatedDeformRoIPoolPack<float>(2, 4, 8, samplingRatio: 1 << 20))],
        ["DeformPSRoIPoolPack spatialScale NaN", "spatialScale", (Action)(() => _ = new DeformPSRoIPoolPack<float>(double.NaN, 2, 2))],
        ["DeformPSRoIPoolPack samplePerPart 0", "samplePerPart", (Action)(() => _ = new DeformPSRoIPoolPack<float>(1, 2, 2, samplePerPart: 0))],
        ["DeformPSRoIPoolPack transStd NaN", "transStd", (Action)(() => _ = new DeformPSRoIPoolPack<float>(1, 2, 2, transStd: double.NaN))],
    ];

    [TestMethod]
    [DynamicData(nameof(Constructors))]
    public void Constructor_ArgumentForwardWouldReject_ThrowsNamingIt(string what, string argument, Action construct)
    {
        Named(argument, construct);
        Assert.IsFalse(string.IsNullOrEmpty(what));
    }

    [TestMethod]
    public void Losses_UndefinedReduction_ThrowNamingReduction()
    {
        var bad = (Reduction)7;
        Named<ArgumentOutOfRangeException>("reduction", () => Functional.CrossEntropy(Tensor<double>.Zeros(2, 3), [0, 1], bad));
        Named<ArgumentOutOfRangeException>("reduction", () => Functional.MseLoss(Tensor<double>.Zeros(2, 3), Tensor<double>.Zeros(2, 3), bad));
        Named<ArgumentOutOfRangeException>("reduction", () => Functional.CosineMimicLoss(Tensor<double>.Ones(2, 3), Tensor<double>.Ones(2, 3), bad));
    }

    [TestMethod]
    public void Sequential_NullLayer_NamesCallersArgument()
    {
        var error = Assert.ThrowsExactly<ArgumentNullException>(() => new Sequential<float>(new ReLU<float>(), null!));
        Assert.AreEqual("layers", error.ParamName);
        StringAssert.Contains(error.Message, "layers[1]");
        Named<ArgumentNullException>("layer", () => new Sequential<float>().Add(null!));
    }

    [TestMethod]
    public void ResNet_NullArrays_ThrowArgumentNamingConfig()
    {
        foreach (var config in new[]
        {
            ResNetConfig.ResNet18 with { Layers = null! },
            ResNetConfig.ResNet18 with { Widths = null! },
            ResNetConfig.ResNet18 with { DcnStages = null! },
        })
        {
            var error = Assert.Throws<ArgumentException>(() => new ResNet<float>(config));
            Assert.AreEqual("config", error.ParamName, error.Message);
        }
    }
}

using DeformEngine.NN;

namespace DeformEngine.Tests.NN;

[TestClass]
public class ResNetTests
{
    private static readonly ResNetConfig Tiny = new()
    {
        Layers = [1, 1, 1], Widths = [4, 8, 8], InChannels = 1, NumClasses = 10, SmallStem = true, Seed = 1,
    };

    [TestMethod]
    public void ResNet18_ParameterCount_MatchesTorchvision()
    {
        // torchvision.models.resnet18(): 11,689,512 parameters.
        Assert.AreEqual(11_689_512, new ResNet<float>(ResNetConfig.ResNet18).ParameterCount);
    }

    [TestMethod]
    public void ResNet50Dcn_AddsOneOffsetBranchPerStage234Block()
    {
        // torchvision.models.resnet50(): 25,557,032; each DCNv2 conv2 with p planes adds a
        // conv_offset of 27 channels: 27·p·9 + 27, for 4 blocks of 128, 6 of 256 and 3 of 512 planes.
        var model = new ResNet<float>(ResNetConfig.ResNet50Dcn);
        long added = 4 * (243 * 128 + 27) + 6 * (243 * 256 + 27) + 3 * (243 * 512 + 27);
        Assert.AreEqual(25_557_032 + added, model.ParameterCount);
        var names = model.DeformableLayers.Select(l => l.Name).ToArray();
        Assert.AreEqual(13, names.Length);
        Assert.AreEqual("layer2.0.conv2", names[0]);
        Assert.IsTrue(model.StateDict().ContainsKey("layer4.2.conv2.conv_offset.weight"));
        Assert.IsFalse(model.StateDict().Keys.Any(k => k.StartsWith("layer1.", StringComparison.Ordinal) && k.Contains("conv_offset")));
    }

    [TestMethod]
    public void ResNet_StateDict_UsesTorchvisionNames()
    {
        var keys = new ResNet<float>(Tiny).StateDict().Keys.ToList();
        CollectionAssert.IsSubsetOf(new[]
        {
            "conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer1.0.bn1.running_mean", "layer1.0.bn2.num_batches_tracked",
            "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var", "fc.weight", "fc.bias",
        }, keys);
        Assert.AreEqual("conv1.weight", keys[0]);
    }

    [TestMethod]
    public void ResNet_SmallImages_ForwardShape_PlainAndDcn()
    {
        var x = Tensor<float>.Randn(2, 2, 1, 12, 12);
        var plain = new ResNet<float>(Tiny);
        var dcn = new ResNet<float>(Tiny with { DcnStages = [2, 3] });
        CollectionAssert.AreEqual(new[] { 2, 10 }, plain.Forward(x).Shape);
        CollectionAssert.AreEqual(new[] { 2, 10 }, dcn.Forward(x).Shape);
        Assert.AreEqual(4, dcn.DeformableLayers.Count(), "both 3×3 convolutions of the basic blocks in stages 2 and 3");
        var bottleneck = new ResNet<float>(Tiny with { Block = ResNetBlockKind.Bottleneck, DcnStages = [3], DcnModulation = false });
        CollectionAssert.AreEqual(new[] { 2, 10 }, bottleneck.Forward(x).Shape);
        Assert.IsTrue(bottleneck.DeformableLayers.All(l => !l.Layer.Modulation));
    }

    [TestMethod]
    public void ResNet_DcnModelAtInit_MatchesPlainModel()
    {
        // Same seed → same main weights; zero offsets → the DCNv1 model computes the plain model.
        var x = Tensor<double>.Randn(3, 2, 1, 10, 10);
        var config = Tiny with { NumClasses = 3 };
        var plain = new ResNet<double>(config).Forward(x).ToArray();
        var dcn = new ResNet<double>(config with { DcnStages = [1, 2, 3], DcnModulation = false }).Forward(x).ToArray();
        for (int i = 0; i < plain.Length; i++) Assert.AreEqual(plain[i], dcn[i], 1e-9);
    }

    [TestMethod]
    public void ResNet_WithoutHead_ReturnsTheStageFeatures()
    {
        // NumClasses = 0 is mmdetection's backbone: no avgpool/fc, one feature map per stage.
        var model = new ResNet<float>(Tiny with { NumClasses = 0 });
        Assert.IsNull(model.Fc);
        Assert.IsFalse(model.StateDict().Keys.Any(k => k.StartsWith("fc.", StringComparison.Ordinal)));
        var x = Tensor<float>.Randn(2, 2, 1, 12, 12);
        var features = model.ForwardFeatures(x);
        CollectionAssert.AreEqual(new[] { 2, 4, 12, 12 }, features[0].Shape, "small stem: stride 1, no max pooling");
        CollectionAssert.AreEqual(new[] { 2, 8, 6, 6 }, features[1].Shape);
        CollectionAssert.AreEqual(new[] { 2, 8, 3, 3 }, features[2].Shape);
        CollectionAssert.AreEqual(features[^1].ToArray(), model.Forward(x).ToArray());
    }

    [TestMethod]
    public void ResNet_BadConfig_Throws()
    {
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new ResNet<float>(Tiny with { NumClasses = -1 })).Message, "NumClasses non-negative, got 1 and -1");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new ResNet<float>(Tiny with { DcnStages = [4] })).Message, "1-based");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new ResNet<float>(Tiny with { Widths = [4] })).Message, "one positive width per stage");
    }
}

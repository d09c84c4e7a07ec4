using DeformEngine.IO;
using DeformEngine.NN;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.NN;

/// <summary>Whole-network parity with PyTorch: an mmdetection-style ResNet-50 with DCNv2 (mmcv's
/// ModulatedDeformConv2dPack) in stages 2–4, seeded random weights with offset branches that are
/// not zero, saved by torch.save in both formats, loaded here by name. REDUCED WIDTH: base width 4
/// (stages of 4, 8, 16, 32 planes) instead of 64, to keep the files small; the depth is
/// ResNet-50's. Inputs of 36×36 and 28×44. Data: tests/golden/make_torch_checkpoints.py.</summary>
[TestClass]
public class ResNetCheckpointParityTests
{
    /// <summary>float64 against float64: the two sides sum in different orders, ~1e-16 per
    /// operation, over ~50 layers; 1e-9 leaves room without hiding a real difference.</summary>
    private const double DoubleTolerance = 1e-9;

    /// <summary>float32 here against float64 in torch: float32 rounding (6e-8) through ~50 layers
    /// and BatchNorm's rescaling.</summary>
    private const double FloatTolerance = 1e-4;

    private const string ZipFile = "resnet50_dcn_w4.zip.pth";
    private const string LegacyFile = "resnet50_dcn_w4.legacy.pth";
    private const string OffsetLayer = "layer3.0.conv2";

    private static readonly ResNetConfig Config = ResNetConfig.ResNet50Dcn with { Widths = [4, 8, 16, 32], NumClasses = 0 };

    private static readonly GoldenCase Golden = new(Path.Combine(AppContext.BaseDirectory, "golden-data", "torch_checkpoint", "resnet50_dcn"));

    private static string FilePath(string file) => Path.Combine(AppContext.BaseDirectory, "golden-data", "torch_checkpoint", "resnet50_dcn", file);

    /// <summary>The zip file is an mmengine checkpoint of a detector (backbone.*, neck.*, meta with a
    /// numpy array, optimizer); the legacy file a bare DataParallel state dict (module.*).</summary>
    private static ResNet<T> Loaded<T>(string file) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = new ResNet<T>(Config);
        var result = model.LoadTorchCheckpoint(FilePath(file), strict: true, prefix: file == ZipFile ? "backbone." : null);
        Assert.AreEqual(0, result.MissingKeys.Count + result.UnexpectedKeys.Count);
        model.Eval();
        return model;
    }

    [TestMethod]
    public void LoadTorchCheckpoint_ZipAndLegacyFiles_FillTheSameState()
    {
        var fromZip = Loaded<double>(ZipFile).StateDict();
        var fromLegacy = Loaded<double>(LegacyFile).StateDict();
        Assert.AreEqual(new ResNet<double>(Config).StateDict().Count, fromZip.Count);
        foreach (var (name, tensor) in fromZip)
            CollectionAssert.AreEqual(tensor.ToArray(), fromLegacy[name].ToArray(), name);
        Assert.AreEqual(4.0, fromZip["layer4.2.bn3.num_batches_tracked"].Item(), "int64 buffer: 4 calibration batches");
        Assert.IsTrue(fromZip["layer3.0.conv2.conv_offset.weight"].ToArray().Any(v => v != 0), "the offset branch is not zero");
    }

    private static void ForwardMatches<T>(string file, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = Loaded<T>(file);
        foreach (var input in new[] { "a", "b" })
        {
            var features = model.ForwardFeatures(Golden.Load<T>("input_" + input));
            Assert.AreEqual(4, features.Count);
            TensorAssert.Close(Golden.Load<T>("layer2_" + input), features[1], tolerance, $"{file}, input {input}: layer2");
            TensorAssert.Close(Golden.Load<T>("layer4_" + input), features[3], tolerance, $"{file}, input {input}: layer4");
        }
    }

    [TestMethod]
    public void ResNet50Dcn_ZipCheckpointDouble_MatchesTorch() => ForwardMatches<double>(ZipFile, DoubleTolerance);

    [TestMethod]
    public void ResNet50Dcn_LegacyCheckpointDouble_MatchesTorch() => ForwardMatches<double>(LegacyFile, DoubleTolerance);

    [TestMethod]
    public void ResNet50Dcn_ZipCheckpointFloat_MatchesTorch() => ForwardMatches<float>(ZipFile, FloatTolerance);

    [TestMethod]
    public void ResNet50Dcn_LegacyCheckpointFloat_MatchesTorch() => ForwardMatches<float>(LegacyFile, FloatTolerance);

    private static void GradientsMatch<T>(double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // L = sum(layer4(input_a) * loss_weight_a): its gradient at layer4 is loss_weight_a.
        var model = Loaded<T>(ZipFile);
        var input = Golden.Load<T>("input_a");
        input.RequiresGrad = true;
        model.ForwardFeatures(input)[3].Backward(Golden.Load<T>("loss_weight_a"));
        var offsetBranch = model.DeformableLayers.Single(l => l.Name == OffsetLayer).Layer.ConvOffset;
        TensorAssert.Close(Golden.Load<T>("grad_input_a"), input.Grad!, tolerance, "dL/dinput");
        TensorAssert.Close(Golden.Load<T>("grad_offset_weight_a"), offsetBranch.Weight.Grad!, tolerance, $"dL/d {OffsetLayer}.conv_offset.weight");
    }

    [TestMethod]
    public void ResNet50Dcn_GradientsDouble_MatchTorch() => GradientsMatch<double>(DoubleTolerance);

    [TestMethod]
    public void ResNet50Dcn_GradientsFloat_MatchTorch() => GradientsMatch<float>(FloatTolerance);

    [TestMethod]
    public void ResNet50Dcn_WithoutOffsets_DiffersFromTorch()
    {
        // The parity above is not reached by chance: the offsets move the samples by about half a
        // pixel, and with the offset branches zeroed (plain convolutions, masks 0.5) layer4 is far off.
        var model = Loaded<double>(ZipFile);
        model.ForwardFeatures(Golden.Load<double>("input_a"));
        var offsets = model.DeformableLayers.Single(l => l.Name == OffsetLayer).Layer.LastOffset!.ToArray();
        Assert.IsTrue(offsets.Average(Math.Abs) > 0.3, $"mean |offset| {offsets.Average(Math.Abs)}");
        foreach (var (_, layer) in model.DeformableLayers)
        {
            layer.ConvOffset.Weight.AsSpan().Clear();
            layer.ConvOffset.Bias!.AsSpan().Clear();
        }
        var expected = Golden.Load<double>("layer4_a").ToArray();
        var actual = model.ForwardFeatures(Golden.Load<double>("input_a"))[3].ToArray();
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / expected.Max(Math.Abs);
        Assert.IsTrue(worst > 0.1, $"relative difference without offsets {worst}");
    }
}

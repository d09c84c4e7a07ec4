using System.Text.Json;
using DeformEngine.NN;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.NN;

/// <summary>NN.Dcnv3 and NN.Dcnv4 against the published layers in torch 1.13 (tests/golden/make_golden_dcnv3.py,
/// random weights loaded by name), their initialisation, and a closed form at initialisation.</summary>
[TestClass]
public class Dcnv3ModuleTests
{
    // Double: a chain of a dozen operators, each the same sums as torch in another order.
    private const double GoldenTolerance = 1e-9;
    // Zero offsets put every point on the integer grid: the deformable path and the direct average differ
    // only by summation order.
    private const double SamePathTolerance = 1e-12;

    public static IEnumerable<object[]> Dcnv3Cases => GoldenCase.All("dcnv3_module").Select(c => new object[] { c.Name });

    public static IEnumerable<object[]> Dcnv4Cases => GoldenCase.All("dcnv4_module").Select(c => new object[] { c.Name });

    private static int Int(GoldenCase golden, string key) => golden.Params.GetProperty(key).GetInt32();

    private static bool Bool(GoldenCase golden, string key) => golden.Params.GetProperty(key).GetBoolean();

    private static int? OptionalInt(GoldenCase golden, string key) =>
        golden.Params.GetProperty(key).ValueKind == JsonValueKind.Null ? null : golden.Params.GetProperty(key).GetInt32();

    private static Dcnv3<double> MakeDcnv3(GoldenCase golden) => new(Int(golden, "channels"), Int(golden, "kernel_size"),
        OptionalInt(golden, "dw_kernel_size"), Int(golden, "stride"), Int(golden, "pad"), Int(golden, "dilation"), Int(golden, "group"),
        golden.Params.GetProperty("offset_scale").GetDouble(), Bool(golden, "center_feature_scale"), Bool(golden, "remove_center"),
        new SeededRandom(1));

    private static Dcnv4<double> MakeDcnv4(GoldenCase golden) => new(Int(golden, "channels"), Int(golden, "kernel_size"),
        Int(golden, "stride"), Int(golden, "pad"), Int(golden, "dilation"), Int(golden, "group"), golden.Params.GetProperty("offset_scale").GetDouble(),
        OptionalInt(golden, "dw_kernel_size"), Bool(golden, "center_feature_scale"), Bool(golden, "remove_center"), Bool(golden, "output_bias"),
        Bool(golden, "without_pointwise"), new SeededRandom(2));

    /// <summary>Loads the golden weights by name, runs forward and backward, and compares the output and every gradient.</summary>
    private static void CheckAgainstGolden(GoldenCase golden, Module<double> module, Func<Tensor<double>, Tensor<double>> forward)
    {
        var names = golden.Params.GetProperty("state_dict_names").EnumerateArray().Select(e => e.GetString()!).ToArray();
        CollectionAssert.AreEqual(names, module.StateDict().Keys.ToArray(), "state dict names and order");
        module.LoadStateDict(names.ToDictionary(name => name, name => golden.Load<double>("param." + name)));
        var input = golden.Load<double>("input");
        input.RequiresGrad = true;
        var output = forward(input);
        output.Backward(golden.Load<double>("grad_output"));
        TensorAssert.Close(golden.Load<double>("output"), output, GoldenTolerance, $"{golden.Name}: output");
        TensorAssert.Close(golden.Load<double>("grad_input"), input.Grad!, GoldenTolerance, $"{golden.Name}: grad_input");
        foreach (var (name, parameter) in module.NamedParameters())
            TensorAssert.Close(golden.Load<double>("grad." + name), parameter.Grad!, GoldenTolerance, $"{golden.Name}: grad {name}");
    }

    [TestMethod]
    [DynamicData(nameof(Dcnv3Cases))]
    public void Dcnv3Module_GoldenWeights_MatchPublishedLayer(string name)
    {
        var golden = GoldenCase.All("dcnv3_module").Single(c => c.Name == name);
        var module = MakeDcnv3(golden);
        CheckAgainstGolden(golden, module, module.Forward);
    }

    [TestMethod]
    [DynamicData(nameof(Dcnv4Cases))]
    public void Dcnv4Module_GoldenWeights_MatchPublishedLayer(string name)
    {
        var golden = GoldenCase.All("dcnv4_module").Single(c => c.Name == name);
        var module = MakeDcnv4(golden);
        var shape = golden.Params.GetProperty("shape");
        CheckAgainstGolden(golden, module, input => shape.ValueKind == JsonValueKind.Null
            ? module.Forward(input)
            : module.Forward(input, (shape[0].GetInt32(), shape[1].GetInt32())));
    }

    [TestMethod]
    public void Dcnv3Module_Initialisation_FollowsResetParameters()
    {
        var module = new Dcnv3<double>(channels: 32, group: 4, centerFeatureScale: true, random: new SeededRandom(3));
        var state = module.StateDict();
        foreach (var zero in new[] { "offset.weight", "offset.bias", "mask.weight", "mask.bias", "input_proj.bias", "output_proj.bias",
                     "center_feature_scale_proj_weight", "center_feature_scale_proj_bias", "dw_conv.1.1.bias" })
            Assert.IsTrue(state[zero].ToArray().All(v => v == 0), $"{zero} is zero");
        Assert.IsTrue(state["dw_conv.1.1.weight"].ToArray().All(v => v == 1), "LayerNorm weight is one");
        CollectionAssert.AreEqual(new[] { 32, 1, 3, 3 }, state["dw_conv.0.weight"].Shape, "depthwise convolution");
        CollectionAssert.AreEqual(new[] { 4 * 9 * 2, 32 }, state["offset.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 4 * 9, 32 }, state["mask.weight"].Shape);
        foreach (var projection in new[] { "input_proj.weight", "output_proj.weight" })
        {
            // Xavier-uniform: U(−a, a) with a = √(6/(32 + 32)); its variance is a²/3.
            double bound = Math.Sqrt(6.0 / 64), variance = state[projection].ToArray().Select(v => v * v).Average();
            Assert.IsTrue(state[projection].ToArray().All(v => Math.Abs(v) <= bound), $"{projection} within ±{bound}");
            Assert.AreEqual(bound * bound / 3, variance, 0.15 * bound * bound / 3, $"{projection} variance");
        }
    }

    [TestMethod]
    public void Dcnv4Module_Initialisation_FollowsResetParameters()
    {
        var module = new Dcnv4<double>(channels: 32, group: 2, dwKernelSize: 3, outputBias: false, random: new SeededRandom(4));
        var state = module.StateDict();
        CollectionAssert.AreEqual(new[] { "offset_mask_dw.weight", "offset_mask_dw.bias", "offset_mask.weight", "offset_mask.bias",
            "value_proj.weight", "value_proj.bias", "output_proj.weight" }, state.Keys.ToArray());
        // ⌈3·G·P/8⌉·8 = ⌈54/8⌉·8 = 56 outputs.
        CollectionAssert.AreEqual(new[] { 56, 32 }, state["offset_mask.weight"].Shape);
        Assert.IsTrue(state["offset_mask.weight"].ToArray().All(v => v == 0) && state["offset_mask.bias"].ToArray().All(v => v == 0));
        Assert.IsTrue(state["value_proj.bias"].ToArray().All(v => v == 0));
        double bound = Math.Sqrt(6.0 / 64);
        Assert.IsTrue(state["value_proj.weight"].ToArray().All(v => Math.Abs(v) <= bound) && state["value_proj.weight"].ToArray().Any(v => v != 0));
    }

    [TestMethod]
    public void Dcnv3Module_AtInitialisation_AveragesTheProjectedWindow()
    {
        // Zero offset and mask weights: every point samples its grid position and softmax(0) weighs the nine
        // points 1/9 each, so out = output_proj(mean over the zero-padded 3×3 window of input_proj(input)).
        var module = new Dcnv3<double>(channels: 8, group: 2, random: new SeededRandom(5));
        const int n = 2, h = 4, w = 5, c = 8;
        var input = Tensor<double>.Randn(6, n, h, w, c);
        var projected = module.InputProjection.Forward(input).ToArray();
        var average = new double[projected.Length];
        for (int b = 0; b < n; b++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        double sum = 0;
                        for (int dy = -1; dy <= 1; dy++)
                            for (int dx = -1; dx <= 1; dx++)
                                if (y + dy >= 0 && y + dy < h && x + dx >= 0 && x + dx < w)
                                    sum += projected[((b * h + y + dy) * w + x + dx) * c + ch];
                        average[((b * h + y) * w + x) * c + ch] = sum / 9;
                    }
        var expected = module.OutputProjection.Forward(Tensor<double>.FromArray(average, n, h, w, c));
        TensorAssert.Close(expected, module.Forward(input), SamePathTolerance, "output at initialisation");
    }

    [TestMethod]
    public void Dcnv3Module_ChannelsNotDivisibleByGroup_ThrowsNamingChannels()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => new Dcnv3<double>(channels: 10, group: 4));
        Assert.AreEqual("channels", ex.ParamName);
    }

    [TestMethod]
    public void Dcnv3Module_WrongChannelCount_ThrowsNamingInput()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => new Dcnv3<double>(channels: 8, group: 2).Forward(Tensor<double>.Zeros(1, 4, 4, 6)));
        Assert.AreEqual("input", ex.ParamName);
        StringAssert.Contains(ex.Message, "8 channels");
    }

    [TestMethod]
    public void Dcnv4Module_TokensNotSquare_ThrowsNamingInput()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => new Dcnv4<double>(channels: 16, group: 1).Forward(Tensor<double>.Zeros(1, 15, 16)));
        Assert.AreEqual("input", ex.ParamName);
    }

    [TestMethod]
    public void Dcnv4Module_ShapeDisagreesWithTokens_ThrowsNamingShape()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => new Dcnv4<double>(channels: 16, group: 1).Forward(Tensor<double>.Zeros(1, 15, 16), (4, 4)));
        Assert.AreEqual("shape", ex.ParamName);
    }
}

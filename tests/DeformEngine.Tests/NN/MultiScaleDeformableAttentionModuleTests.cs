using DeformEngine.NN;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.NN;

/// <summary>NN.MultiScaleDeformableAttention against mmcv's module as published (written out in
/// tests/golden/make_golden_msda.py): names, initialisation, and with a loaded random state the output
/// and every gradient.</summary>
[TestClass]
public class MultiScaleDeformableAttentionModuleTests
{
    // Float64 on both sides, the same sums in a different order (Linear's GEMM, the attention's corners).
    private const double DoubleTolerance = 1e-9;
    // mmcv computes the radial bias in float32: its cos/sin and ours of the same float32 angle may differ
    // in the last bit.
    private const double Float32Tolerance = 1e-6;
    // Against the exact directions: the float32 angle 2πi/heads is itself off by up to ~4e-7 rad, which
    // tilts (cos, sin)/max by as much, times p + 1 ≤ 3.
    private const double AngleRoundingTolerance = 5e-6;

    private static readonly string[] Names =
    [
        "sampling_offsets.weight", "sampling_offsets.bias", "attention_weights.weight", "attention_weights.bias",
        "value_proj.weight", "value_proj.bias", "output_proj.weight", "output_proj.bias",
    ];

    public static IEnumerable<object[]> Cases => GoldenCase.All("ms_deform_attn_module").Select(c => new object[] { c.Name });

    [TestMethod]
    public void Module_State_HasMmcvNamesAndShapes()
    {
        var module = new MultiScaleDeformableAttention<double>(embedDims: 16, numHeads: 4, numLevels: 3, numPoints: 2, random: new SeededRandom(1));
        CollectionAssert.AreEqual(Names, module.StateDict().Keys.ToArray());
        var state = module.StateDict();
        CollectionAssert.AreEqual(new[] { 4 * 3 * 2 * 2, 16 }, state["sampling_offsets.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 4 * 3 * 2 }, state["attention_weights.bias"].Shape);
        CollectionAssert.AreEqual(new[] { 16, 16 }, state["value_proj.weight"].Shape);
        CollectionAssert.AreEqual(new[] { 16, 16 }, state["output_proj.weight"].Shape);
    }

    [TestMethod]
    public void Module_Init_IsMmcvs()
    {
        var module = new MultiScaleDeformableAttention<double>(embedDims: 16, numHeads: 8, numLevels: 2, numPoints: 3, random: new SeededRandom(2));
        var state = module.StateDict();
        TensorAssert.AllEqual(state["sampling_offsets.weight"], 0.0, "sampling_offsets.weight");
        TensorAssert.AllEqual(state["attention_weights.weight"], 0.0, "attention_weights.weight");
        TensorAssert.AllEqual(state["attention_weights.bias"], 0.0, "attention_weights.bias");
        // Head 1 of 8 points at 45°: (cos, sin)/max = (1, 1); head 2 straight down (0, 1); head 4 left (−1, 0);
        // point p scaled by p + 1, the same on every level.
        var bias = state["sampling_offsets.bias"];
        (int Head, double X, double Y)[] directions = [(0, 1, 0), (1, 1, 1), (2, 0, 1), (4, -1, 0), (7, 1, -1)];
        foreach (var (head, x, y) in directions)
            for (int level = 0; level < 2; level++)
                for (int point = 0; point < 3; point++)
                {
                    int at = ((head * 2 + level) * 3 + point) * 2;
                    Assert.AreEqual(x * (point + 1), bias[at], AngleRoundingTolerance, $"head {head} level {level} point {point} x");
                    Assert.AreEqual(y * (point + 1), bias[at + 1], AngleRoundingTolerance, $"head {head} level {level} point {point} y");
                }
        foreach (var name in new[] { "value_proj", "output_proj" })
        {
            double bound = Math.Sqrt(6.0 / (16 + 16));
            var weight = state[name + ".weight"].ToArray();
            Assert.IsTrue(weight.All(v => Math.Abs(v) <= bound) && weight.Max() > bound / 2 && weight.Min() < -bound / 2,
                $"{name}.weight: expected Xavier-uniform values filling ±{bound:F3}");
            TensorAssert.AllEqual(state[name + ".bias"], 0.0, name + ".bias");
        }
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void Module_GoldenInit_MatchesMmcvRadialBias(string name)
    {
        var golden = GoldenCase.All("ms_deform_attn_module").Single(c => c.Name == name);
        var module = Build(golden);
        TensorAssert.Close(golden.Load<double>("init_sampling_offsets_bias"), module.SamplingOffsets.Bias!.Value, Float32Tolerance,
            "sampling_offsets.bias at init");
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void Module_GoldenState_MatchesMmcvForwardAndGradients(string name)
    {
        var golden = GoldenCase.All("ms_deform_attn_module").Single(c => c.Name == name);
        var module = Build(golden);
        module.LoadStateDict(Names.ToDictionary(n => n, n => golden.Load<double>("state_" + n)));
        module.Eval();
        Tensor<double>? Leaf(string array)
        {
            if (!golden.Has(array)) return null;
            var tensor = golden.Load<double>(array);
            tensor.RequiresGrad = true;
            return tensor;
        }
        var query = Leaf("query")!;
        var reference = Leaf("reference_points")!;
        var value = Leaf("value");
        var queryPos = golden.Has("query_pos") ? golden.Load<double>("query_pos") : null;
        var mask = golden.Has("key_padding_mask") ? golden.Load<double>("key_padding_mask") : null;
        var shapes = golden.Params.GetProperty("spatial_shapes").EnumerateArray().Select(s => (s[0].GetInt32(), s[1].GetInt32())).ToArray();
        var starts = golden.Params.GetProperty("level_start_index").EnumerateArray().Select(s => s.GetInt32()).ToArray();

        var output = module.Forward(query, reference, shapes, starts, value, queryPos: queryPos, keyPaddingMask: mask);
        output.Backward(golden.Load<double>("grad_output"));

        TensorAssert.Close(golden.Load<double>("output"), output, DoubleTolerance, "output");
        TensorAssert.Close(golden.Load<double>("grad_query"), query.Grad!, DoubleTolerance, "grad query");
        TensorAssert.Close(golden.Load<double>("grad_reference_points"), reference.Grad!, DoubleTolerance, "grad reference points");
        if (value is not null) TensorAssert.Close(golden.Load<double>("grad_value"), value.Grad!, DoubleTolerance, "grad value");
        foreach (var (parameterName, parameter) in module.NamedParameters())
            TensorAssert.Close(golden.Load<double>("grad_" + parameterName), parameter.Grad!, DoubleTolerance, "grad " + parameterName);
    }

    private static MultiScaleDeformableAttention<double> Build(GoldenCase golden) => new(
        golden.Params.GetProperty("embed_dims").GetInt32(), golden.Params.GetProperty("num_heads").GetInt32(),
        golden.Params.GetProperty("num_levels").GetInt32(), golden.Params.GetProperty("num_points").GetInt32(),
        batchFirst: golden.Params.GetProperty("batch_first").GetBoolean(), random: new SeededRandom(3));

    [TestMethod]
    public void Module_SingleInputForward_ThrowsNotSupported()
    {
        var module = new MultiScaleDeformableAttention<double>(8, 2, 1, 1);
        var error = Assert.ThrowsExactly<NotSupportedException>(() => module.Forward(Tensor<double>.Zeros(3, 1, 8)));
        StringAssert.Contains(error.Message, "referencePoints");
    }

    [TestMethod]
    public void Module_HeadsNotDividingEmbedDims_ThrowsNamingEmbedDims()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => new MultiScaleDeformableAttention<double>(embedDims: 10, numHeads: 4));
        Assert.AreEqual("embedDims", error.ParamName);
        StringAssert.Contains(error.Message, "multiple of numHeads = 4");
    }

    [TestMethod]
    public void Module_ReferencePointsWrongLevels_ThrowsNamingReferencePoints()
    {
        var module = new MultiScaleDeformableAttention<double>(8, 2, 2, 1, batchFirst: true);
        var query = Tensor<double>.Zeros(1, 5, 8);
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            module.Forward(query, Tensor<double>.Zeros(1, 5, 3, 2), [(2, 2), (1, 1)], [0, 4]));
        Assert.AreEqual("referencePoints", error.ParamName);
        StringAssert.Contains(error.Message, "[1, 5, 2, 2 or 4]");
    }
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>Dcnv3 and Dcnv4 against torch 1.13 (tests/golden/make_golden_dcnv3.py: InternImage's
/// dcnv3_core_pytorch and DCNv4's packing of it), forward and every gradient, on both CPU backends.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class Dcnv3GoldenTests
{
    // Double: the same sums as torch in another order (torch samples through normalised coordinates,
    // we in pixels); a few ulps per term over at most a few hundred terms.
    private const double DoubleTolerance = 1e-9;
    // Float: inputs rounded to float32, sums in float32 (24-bit mantissa); positions are kept 1e-3 off
    // the kinks or hit them exactly (dyadic), so rounding never moves a point across one.
    private const double FloatTolerance = 1e-4;
    private const int MinimumConfigurations = 50;

    public static IEnumerable<object[]> Dcnv3Cases => Cases("dcnv3");

    public static IEnumerable<object[]> Dcnv4Cases => Cases("dcnv4");

    private static IEnumerable<object[]> Cases(string op) =>
        GoldenCase.All(op).SelectMany(c => new[] { new object[] { c.Name, true }, [c.Name, false] });

    private static GoldenCase Case(string op, string name) => GoldenCase.All(op).Single(c => c.Name == name);

    [TestMethod]
    [DataRow("dcnv3")]
    [DataRow("dcnv4")]
    public void Golden_HasAtLeastFiftyConfigurations(string op)
    {
        var cases = GoldenCase.All(op).ToList();
        Assert.IsGreaterThanOrEqualTo(MinimumConfigurations, cases.Count);
        Assert.IsTrue(cases.Any(c => c.Params.GetProperty("remove_center").GetBoolean()), "a removeCenter case");
        Assert.IsTrue(cases.Any(c => c.Load<double>("input").Dim(0) == 33), "a batch of 33");
        Assert.IsTrue(cases.Any(c => c.Load<double>("input").Dim(0) == 1), "a batch of 1");
        Assert.IsTrue(cases.Any(c => c.Params.GetProperty("description").GetString()!.Contains("border")), "border cases");
    }

    [TestMethod]
    [DynamicData(nameof(Dcnv3Cases))]
    public void Dcnv3_GoldenDouble_MatchesTorch(string name, bool reference) =>
        RunDcnv3<double>(Case("dcnv3", name), reference, t => t, DoubleTolerance);

    [TestMethod]
    [DynamicData(nameof(Dcnv3Cases))]
    public void Dcnv3_GoldenFloat_MatchesTorch(string name, bool reference) =>
        RunDcnv3<float>(Case("dcnv3", name), reference, TensorAssert.ToFloat, FloatTolerance);

    [TestMethod]
    [DynamicData(nameof(Dcnv4Cases))]
    public void Dcnv4_GoldenDouble_MatchesTorch(string name, bool reference) =>
        RunDcnv4<double>(Case("dcnv4", name), reference, t => t, DoubleTolerance);

    [TestMethod]
    [DynamicData(nameof(Dcnv4Cases))]
    public void Dcnv4_GoldenFloat_MatchesTorch(string name, bool reference) =>
        RunDcnv4<float>(Case("dcnv4", name), reference, TensorAssert.ToFloat, FloatTolerance);

    private sealed record Options((int H, int W) Kernel, (int H, int W) Stride, (int H, int W) Padding, (int H, int W) Dilation,
        int Group, int GroupChannels, double OffsetScale, bool RemoveCenter)
    {
        public static Options Of(GoldenCase golden) => new(golden.Pair("kernel"), golden.Pair("stride"), golden.Pair("padding"),
            golden.Pair("dilation"), golden.Params.GetProperty("group").GetInt32(), golden.Params.GetProperty("group_channels").GetInt32(),
            golden.Params.GetProperty("offset_scale").GetDouble(), golden.Params.GetProperty("remove_center").GetBoolean());
    }

    private static Tensor<T> Leaf<T>(GoldenCase golden, string array, Func<Tensor<double>, Tensor<T>> convert)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tensor = convert(golden.Load<double>(array));
        tensor.RequiresGrad = true;
        return tensor;
    }

    private static T WithBackend<T>(bool reference, Func<T> run)
    {
        bool saved = EngineOptions.UseReferenceKernels;
        try
        {
            EngineOptions.UseReferenceKernels = reference;
            return run();
        }
        finally
        {
            EngineOptions.UseReferenceKernels = saved;
        }
    }

    private static void RunDcnv3<T>(GoldenCase golden, bool reference, Func<Tensor<double>, Tensor<T>> convert, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var o = Options.Of(golden);
        var input = Leaf(golden, "input", convert);
        var offset = Leaf(golden, "offset", convert);
        var mask = Leaf(golden, "mask", convert);
        var output = WithBackend(reference, () =>
        {
            var result = Functional.Dcnv3(input, offset, mask, o.Kernel, o.Stride, o.Padding, o.Dilation, o.Group, o.GroupChannels,
                o.OffsetScale, o.RemoveCenter);
            result.Backward(convert(golden.Load<double>("grad_output")));
            return result;
        });
        string what = $"{golden.Name} ({golden.Params.GetProperty("description").GetString()}), {(reference ? "reference" : "fast")}";
        TensorAssert.Close(convert(golden.Load<double>("output")), output, tolerance, $"{what}: output");
        TensorAssert.Close(convert(golden.Load<double>("grad_input")), input.Grad!, tolerance, $"{what}: grad_input");
        TensorAssert.Close(convert(golden.Load<double>("grad_offset")), offset.Grad!, tolerance, $"{what}: grad_offset");
        TensorAssert.Close(convert(golden.Load<double>("grad_mask")), mask.Grad!, tolerance, $"{what}: grad_mask");
    }

    private static void RunDcnv4<T>(GoldenCase golden, bool reference, Func<Tensor<double>, Tensor<T>> convert, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var o = Options.Of(golden);
        var input = Leaf(golden, "input", convert);
        var offsetMask = Leaf(golden, "offset_mask", convert);
        var output = WithBackend(reference, () =>
        {
            var result = Functional.Dcnv4(input, offsetMask, o.Kernel, o.Stride, o.Padding, o.Dilation, o.Group, o.GroupChannels,
                o.OffsetScale, o.RemoveCenter);
            result.Backward(convert(golden.Load<double>("grad_output")));
            return result;
        });
        string what = $"{golden.Name} ({golden.Params.GetProperty("description").GetString()}), {(reference ? "reference" : "fast")}";
        TensorAssert.Close(convert(golden.Load<double>("output")), output, tolerance, $"{what}: output");
        TensorAssert.Close(convert(golden.Load<double>("grad_input")), input.Grad!, tolerance, $"{what}: grad_input");
        TensorAssert.Close(convert(golden.Load<double>("grad_offset_mask")), offsetMask.Grad!, tolerance, $"{what}: grad_offset_mask");
    }
}

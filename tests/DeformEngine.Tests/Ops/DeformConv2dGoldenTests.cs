using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>DeformConv2d forward and every gradient against torchvision's, on every backend.</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class DeformConv2dGoldenTests
{
    // Double: our GEMM (or a device's tiles and scatter) and torchvision's accumulate in different orders;
    // a few ulps per product of sums of a few hundred terms stay far below this bound.
    private const double DoubleTolerance = 1e-10;
    // Float: inputs rounded to float32 and accumulated in float32 (24-bit mantissa).
    private const double FloatTolerance = 1e-4;
    private static readonly Tolerance Golden = Tolerance.Everywhere(FloatTolerance, DoubleTolerance);

    public static IEnumerable<object[]> Cases =>
        TestBackends.Cross(TestBackends.Names, GoldenCase.All("deform_conv2d").Select(c => c.Name));

    private static GoldenCase Case(string name) => GoldenCase.All("deform_conv2d").Single(c => c.Name == name);

    [TestMethod]
    public void Golden_HasAtLeastSixteenConfigurations()
    {
        Assert.IsGreaterThanOrEqualTo(16, GoldenCase.All("deform_conv2d").Count());
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void DeformConv2d_GoldenDouble_MatchesTorchvision(string backend, string name)
    {
        using var target = TestBackends.Open<double>(backend);
        var worst = Run<double>(target, Case(name), t => t, target.Tolerance<double>(Golden));
        Console.WriteLine($"{backend} {name}: worst relative error {worst:E2}");
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void DeformConv2d_GoldenFloat_MatchesTorchvision(string backend, string name)
    {
        using var target = TestBackends.Open<float>(backend);
        Run<float>(target, Case(name), TensorAssert.ToFloat, target.Tolerance<float>(Golden));
    }

    private static double Run<T>(TestBackend target, GoldenCase golden, Func<Tensor<double>, Tensor<T>> convert, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Tensor<T> Leaf(string array)
        {
            var t = convert(golden.Load<double>(array));
            t.RequiresGrad = true;
            return t;
        }
        var input = Leaf("input");
        var offset = Leaf("offset");
        var weight = Leaf("weight");
        var bias = golden.Has("bias") ? Leaf("bias") : null;
        var mask = golden.Has("mask") ? Leaf("mask") : null;

        var output = Functional.DeformConv2d(target.On(input), target.On(offset), target.On(weight), target.OnOrNull(bias),
            golden.Pair("stride"), golden.Pair("padding"), golden.Pair("dilation"), target.OnOrNull(mask));
        Assert.AreSame(target.Device, output.Device, "the op runs where its inputs are");
        output.Backward(target.On(convert(golden.Load<double>("grad_output"))));

        double worst = 0;
        worst = Math.Max(worst, TensorAssert.Close(convert(golden.Load<double>("output")), output, tolerance, "output"));
        worst = Math.Max(worst, TensorAssert.Close(convert(golden.Load<double>("grad_input")), input.Grad!, tolerance, "grad_input"));
        worst = Math.Max(worst, TensorAssert.Close(convert(golden.Load<double>("grad_offset")), offset.Grad!, tolerance, "grad_offset"));
        worst = Math.Max(worst, TensorAssert.Close(convert(golden.Load<double>("grad_weight")), weight.Grad!, tolerance, "grad_weight"));
        if (bias is not null)
            worst = Math.Max(worst, TensorAssert.Close(convert(golden.Load<double>("grad_bias")), bias.Grad!, tolerance, "grad_bias"));
        if (mask is not null)
            worst = Math.Max(worst, TensorAssert.Close(convert(golden.Load<double>("grad_mask")), mask.Grad!, tolerance, "grad_mask"));
        return worst;
    }
}

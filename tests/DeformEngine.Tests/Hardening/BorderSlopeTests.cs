using DeformEngine.Tests.Gpu;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Hardening;

/// <summary>torchvision's offset gradient at sampling coordinates exactly on −1, 0, H−1 and H: on −1
/// the sample is 0 but the slope is taken from the inside, at H it is 0. Golden cases
/// <c>exact_borders*</c> from tests/golden/make_golden.py on both CPU paths and each device backend,
/// and the rule itself in closed form.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class BorderSlopeTests
{
    // Double: the same sums as torchvision in another order (GEMM blocking), a few ulps of sums of
    // at most a few dozen products.
    private const double DoubleTolerance = 1e-10;
    // Float (device backends that lack double): inputs rounded to float32, accumulated in float32.
    private const double FloatTolerance = 1e-4;

    public static IEnumerable<object[]> DeformCasesBothPaths =>
        from c in GoldenCase.All("deform_conv2d").Where(c => c.Name.StartsWith("exact_borders", StringComparison.Ordinal))
        from reference in new[] { true, false }
        select new object[] { c.Name, reference };

    public static IEnumerable<object[]> DeformCasesOnDevices =>
        from c in GoldenCase.All("deform_conv2d").Where(c => c.Name.StartsWith("exact_borders", StringComparison.Ordinal))
        from backend in TestBackends.Gpus
        select new object[] { c.Name, backend };

    [TestMethod]
    public void Golden_HasExactBorderCasesWithEveryBorderCoordinate()
    {
        // Each case must put points on −1, 0, H−1 and H of both axes, or it does not test the rule.
        foreach (var golden in GoldenCase.All("deform_conv2d").Where(c => c.Name.StartsWith("exact_borders", StringComparison.Ordinal)))
        {
            var input = golden.Load<double>("input");
            var (h, w) = (input.Dim(2), input.Dim(3));
            var points = SamplingPoints(golden);
            foreach (var (value, axis, size) in new[] { (-1.0, 0, h), (0.0, 0, h), (h - 1.0, 0, h), (h, 0, h), (-1.0, 1, w), (0.0, 1, w), (w - 1.0, 1, w), (w, 1, w) })
                Assert.IsTrue(points.Any(p => (axis == 0 ? p.Y : p.X) == value), $"{golden.Name}: no point with {(axis == 0 ? "y" : "x")} = {value}");
        }
        Assert.HasCount(3, DeformCasesOnDevices.Where(r => (string)r[1] == TestBackends.CpuAccelerator));
    }

    [TestMethod]
    [DynamicData(nameof(DeformCasesBothPaths))]
    public void DeformConv2d_ExactBorderPoints_BothPathsMatchTorchvision(string name, bool reference)
    {
        var golden = GoldenCase.All("deform_conv2d").Single(c => c.Name == name);
        EnginePaths.Run(reference, () => RunDeform(golden, Device.Cpu, t => t, DoubleTolerance));
    }

    [TestMethod]
    [DynamicData(nameof(DeformCasesOnDevices))]
    public void DeformConv2d_ExactBorderPoints_OnDeviceMatchesTorchvision(string name, string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var golden = GoldenCase.All("deform_conv2d").Single(c => c.Name == name);
        RunDeform(golden, device, TensorAssert.ToFloat, FloatTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void BilinearSample_ExactBorderPoints_OnDeviceMatchesTorchvision(string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var golden = GoldenCase.All("bilinear_sample").Single(c => c.Name == "exact_borders");
        var input = TensorAssert.ToFloat(golden.Load<double>("input")).To(device);
        var coords = TensorAssert.ToFloat(golden.Load<double>("coords")).To(device);
        input.RequiresGrad = true;
        coords.RequiresGrad = true;
        var output = Functional.BilinearSample(input, coords);
        output.Backward(TensorAssert.ToFloat(golden.Load<double>("grad_output")).To(device));
        TensorAssert.Close(TensorAssert.ToFloat(golden.Load<double>("output")), output.To(Device.Cpu), FloatTolerance, "output");
        TensorAssert.Close(TensorAssert.ToFloat(golden.Load<double>("grad_input")), input.Grad!.To(Device.Cpu), FloatTolerance, "grad_input");
        TensorAssert.Close(TensorAssert.ToFloat(golden.Load<double>("grad_coords")), coords.Grad!.To(Device.Cpu), FloatTolerance, "grad_coords");
    }

    /// <summary>The rule in closed form on a 3×4 plane v: at (−1, x) the y-slope is
    /// (1 − lx)·v[0, ⌊x⌋] + lx·v[0, ⌊x⌋ + 1] and the x-slope 0; at (y, −1) the mirror; at H and W
    /// and beyond 0; the sample is 0 on all of them. Both CPU paths of DeformConv2d agree.</summary>
    [TestMethod]
    [DynamicData(nameof(EnginePaths.Both), typeof(EnginePaths))]
    public void DeformConv2d_EdgeMinusOne_SlopeFromInsideSampleZero(bool reference)
    {
        var plane = Tensor<double>.FromArray([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048], 1, 1, 3, 4);
        double V(int y, int x) => plane[0, 0, y, x];
        (double Y, double X, double Dy, double Dx)[] cases =
        [
            (-1, 1.25, 0.75 * V(0, 1) + 0.25 * V(0, 2), 0),
            (-1, 0, V(0, 0), 0),
            (-1, -1, 0, 0),
            (0.5, -1, 0, 0.5 * V(0, 0) + 0.5 * V(1, 0)),
            (2, -1, 0, V(2, 0)),
            (3, 1.5, 0, 0),
            (1.5, 4, 0, 0),
            (-1, 4, 0, 0),
            (-1.0000001, 1.5, 0, 0),
        ];
        foreach (var (y, x, dy, dx) in cases)
        {
            var input = plane.Clone();
            var offset = Tensor<double>.FromArray([y, x], 1, 2, 1, 1);
            var mask = Tensor<double>.Full(0.5, 1, 1, 1, 1);
            input.RequiresGrad = offset.RequiresGrad = mask.RequiresGrad = true;
            // A 1×1 kernel at stride (3, 4) samples at (y, x) itself.
            var output = EnginePaths.Run(reference, () =>
            {
                var result = Functional.DeformConv2d(input, offset, Tensor<double>.Ones(1, 1, 1, 1), stride: (3, 4), mask: mask);
                result.Backward(Tensor<double>.Ones(1, 1, 1, 1));
                return result;
            });
            string what = $"({y}, {x}) on the {(reference ? "reference" : "fast")} path";
            Assert.AreEqual(0.0, output.Item(), $"{what}: sample");
            Assert.AreEqual(0.5 * dy, offset.Grad![0, 0, 0, 0], $"{what}: ∂/∂Δy");
            Assert.AreEqual(0.5 * dx, offset.Grad![0, 1, 0, 0], $"{what}: ∂/∂Δx");
            Assert.AreEqual(0.0, mask.Grad![0, 0, 0, 0], $"{what}: ∂/∂m");
            TensorAssert.AllEqual(input.Grad!, 0.0, $"{what}: ∂/∂input");
        }
    }

    [TestMethod]
    public void BilinearSample_EdgeMinusOne_SlopeFromInside()
    {
        var input = Tensor<double>.FromArray([1, 2, 4, 8, 16, 32], 1, 1, 2, 3);
        var coords = Tensor<double>.FromArray([-1, 0.5, 1.5, -1, -1, -1, 2, 1], 1, 4, 2);
        coords.RequiresGrad = true;
        var output = Functional.BilinearSample(input, coords);
        TensorAssert.AllEqual(output, 0.0, "samples on the edges and at H read 0");
        output.Sum().Backward();
        // (−1, 0.5): y-slope ½·v[0, 0] + ½·v[0, 1]; (1.5, −1): x-slope ½·v[1, 0] + ½·(row 2, outside: 0);
        // (−1, −1) and (2 = H, 1): 0.
        CollectionAssert.AreEqual(new[] { 0.5 * 1 + 0.5 * 2, 0, 0, 0.5 * 8, 0, 0, 0, 0 }, coords.Grad!.ToArray());
    }

    /// <summary>Exact (y, x) of every sampling point of a golden case, from its offsets.</summary>
    private static List<(double Y, double X)> SamplingPoints(GoldenCase golden)
    {
        var offset = golden.Load<double>("offset");
        var weight = golden.Load<double>("weight");
        var (stride, padding, dilation) = (golden.Pair("stride"), golden.Pair("padding"), golden.Pair("dilation"));
        int kh = weight.Dim(2), kw = weight.Dim(3), fields = offset.Dim(1) / 2;
        var points = new List<(double, double)>();
        for (int b = 0; b < offset.Dim(0); b++)
            for (int f = 0; f < fields; f++)
                for (int oy = 0; oy < offset.Dim(2); oy++)
                    for (int ox = 0; ox < offset.Dim(3); ox++)
                    {
                        int k = f % (kh * kw), i = k / kw, j = k % kw;
                        points.Add((oy * stride.H - padding.H + i * dilation.H + offset[b, 2 * f, oy, ox],
                            ox * stride.W - padding.W + j * dilation.W + offset[b, 2 * f + 1, oy, ox]));
                    }
        return points;
    }

    private static void RunDeform<T>(GoldenCase golden, Device device, Func<Tensor<double>, Tensor<T>> convert, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Tensor<T> Leaf(string array)
        {
            var t = convert(golden.Load<double>(array)).To(device);
            t.RequiresGrad = true;
            return t;
        }
        var input = Leaf("input");
        var offset = Leaf("offset");
        var weight = Leaf("weight");
        var bias = golden.Has("bias") ? Leaf("bias") : null;
        var mask = golden.Has("mask") ? Leaf("mask") : null;
        var output = Functional.DeformConv2d(input, offset, weight, bias, golden.Pair("stride"), golden.Pair("padding"),
            golden.Pair("dilation"), mask);
        output.Backward(convert(golden.Load<double>("grad_output")).To(device));
        void Check(string array, Tensor<T> actual) =>
            TensorAssert.Close(convert(golden.Load<double>(array)), actual.To(Device.Cpu), tolerance, $"{golden.Name}: {array}");
        Check("output", output);
        Check("grad_input", input.Grad!);
        Check("grad_offset", offset.Grad!);
        Check("grad_weight", weight.Grad!);
        if (bias is not null) Check("grad_bias", bias.Grad!);
        if (mask is not null) Check("grad_mask", mask.Grad!);
    }
}

using DeformEngine.Explain;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Explain;

/// <summary>The DCNv3 / DCNv4 explainer: its corner terms against the engine's backward and central differences,
/// hand-placed points, and the index-only ablation.</summary>
[TestClass]
public class Dcnv3ExplainerTests
{
    // The explainer and the engine add the same products in another order, in double.
    private const double SameSumTolerance = 1e-12;
    // Central differences (eps 1e-6) of a function linear in each coordinate between kinks: rounding only,
    // ~1e-16·|out|/eps ≈ 1e-10.
    private const double FiniteDifferenceTolerance = 1e-7;

    public sealed record Case(string Name, Dcnv3Call<double> Dcnv3, Dcnv4Call<double> Dcnv4, OutputUnit[] Units);

    /// <summary>Small maps and offsets of a few pixels, so that points land inside, in the border band and outside;
    /// locations kept 0.05 off the integers (offset scale 1 or 2 on an integer grid).</summary>
    public static Case Random(int seed)
    {
        var rng = new SeededRandom(700 + seed);
        int k = 2 + rng.NextInt(2), stride = 1 + rng.NextInt(2), pad = rng.NextInt(2), dilation = 1 + rng.NextInt(2);
        int group = 1 + rng.NextInt(3), groupChannels = 1 + rng.NextInt(3), n = 1 + rng.NextInt(2);
        bool removeCenter = k == 3 && rng.NextInt(2) == 0;
        double scale = 1 + rng.NextInt(2);
        int h = dilation * (k - 1) + 2 + rng.NextInt(3), w = dilation * (k - 1) + 1 + rng.NextInt(3);
        int oh = (h + 2 * pad - dilation * (k - 1) - 1) / stride + 1, ow = (w + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
        int points = k * k - (removeCenter ? 1 : 0), channels = group * groupChannels;
        var input = Tensor<double>.Randn(seed * 10 + 1, n, h, w, channels);
        var offset = GradCheck.KeepOffIntegers(Tensor<double>.Randn(seed * 10 + 2, n, oh, ow, group * points * 2).MulScalar(2.5 * scale))
            .MulScalar(1 / scale);
        var mask = Tensor<double>.Randn(seed * 10 + 3, n, oh, ow, group * points);
        var dcnv3 = new Dcnv3Call<double>(input, offset, mask, (k, k), (stride, stride), (pad, pad), (dilation, dilation), group,
            groupChannels, scale, removeCenter);
        // The same offsets and masks packed as DCNv4 wants them, with garbage in the padding.
        int packed = Dcnv4Params.PackedLength(group, points);
        var offsetMask = Tensor<double>.Randn(seed * 10 + 4, n, oh, ow, packed);
        var o = offset.ToArray();
        var m = mask.ToArray();
        var data = offsetMask.AsSpan();
        for (int r = 0; r < n * oh * ow; r++)
            for (int g = 0; g < group; g++)
                for (int p = 0; p < points; p++)
                {
                    data[r * packed + g * 3 * points + 2 * p] = o[(r * group + g) * points * 2 + 2 * p];
                    data[r * packed + g * 3 * points + 2 * p + 1] = o[(r * group + g) * points * 2 + 2 * p + 1];
                    data[r * packed + g * 3 * points + 2 * points + p] = m[(r * group + g) * points + p];
                }
        var dcnv4 = new Dcnv4Call<double>(input, offsetMask, (k, k), (stride, stride), (pad, pad), (dilation, dilation), group,
            groupChannels, scale, removeCenter);
        var units = Enumerable.Range(0, 3).Select(_ => new OutputUnit(rng.NextInt(n), rng.NextInt(channels), rng.NextInt(oh), rng.NextInt(ow))).ToArray();
        string name = $"seed {seed}: k{k} s{stride} p{pad} d{dilation} G{group}x{groupChannels} scale {scale}{(removeCenter ? " remove centre" : "")} input {n}x{h}x{w}";
        return new Case(name, dcnv3, dcnv4, units);
    }

    public static IEnumerable<object[]> Seeds => Enumerable.Range(1, 12).Select(s => new object[] { s });

    private static void AssertAgreement(EngineAgreement agreement, string what)
    {
        Assert.IsLessThanOrEqualTo(SameSumTolerance, agreement.OutputError, $"{what}: output");
        Assert.IsLessThanOrEqualTo(SameSumTolerance, agreement.OffsetError, $"{what}: offset gradient");
        Assert.IsLessThanOrEqualTo(SameSumTolerance, agreement.MaskError!.Value, $"{what}: mask gradient");
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Explain_RandomConfiguration_CornerSumsEqualEngineGradients(int seed)
    {
        var c = Random(seed);
        foreach (var unit in c.Units)
        {
            var explanation = Dcnv3Explainer.Explain(c.Dcnv3, unit);
            AssertAgreement(Dcnv3Explainer.CompareWithEngine(c.Dcnv3, explanation), $"{c.Name}, unit {unit}, DCNv3");
            var packed = Dcnv3Explainer.Explain(c.Dcnv4, unit);
            AssertAgreement(Dcnv3Explainer.CompareWithEngine(c.Dcnv4, packed), $"{c.Name}, unit {unit}, DCNv4");
            Assert.AreEqual(explanation.Output, packed.Output, SameSumTolerance, "DCNv4 explains the same unit");
            foreach (var p in explanation.Points.Where(p => p.AnyCorner))
            {
                Assert.AreEqual(p.GradX, p.Corners.Sum(q => q.ContributionDx), SameSumTolerance, "GradX is the sum of the corner terms");
                Assert.AreEqual(p.GradY, p.Corners.Sum(q => q.ContributionDy), SameSumTolerance, "GradY is the sum of the corner terms");
                Assert.AreEqual(c.Dcnv3.OffsetScale * p.GradX, p.GradDx, SameSumTolerance, "∂out/∂Δx = s·∂out/∂x");
                Assert.AreEqual(1.0, p.Corners.Sum(q => q.Coefficient), SameSumTolerance, "the coefficients sum to 1");
            }
        }
    }

    [TestMethod]
    public void Explain_RandomConfigurations_CoverBorderAndOutsidePoints()
    {
        int partial = 0, outside = 0;
        foreach (int seed in Seeds.Select(s => (int)s[0]))
        {
            var c = Random(seed);
            foreach (var unit in c.Units)
                foreach (var p in Dcnv3Explainer.Explain(c.Dcnv3, unit).Points)
                {
                    if (!p.AnyCorner) outside++;
                    else if (p.Corners.Any(q => !q.InImage)) partial++;
                }
        }
        Assert.IsGreaterThanOrEqualTo(20, partial, "points with a corner outside the map");
        Assert.IsGreaterThanOrEqualTo(20, outside, "points with no corner in the map");
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Explain_RandomConfiguration_MatchesFiniteDifferences(int seed)
    {
        var c = Random(seed);
        var unit = c.Units[0];
        foreach (var (explanation, numeric) in new[]
                 {
                     (Dcnv3Explainer.Explain(c.Dcnv3, unit), Dcnv3Explainer.FiniteDifferences(c.Dcnv3, unit)),
                     (Dcnv3Explainer.Explain(c.Dcnv4, unit), Dcnv3Explainer.FiniteDifferences(c.Dcnv4, unit)),
                 })
        {
            Assert.HasCount(explanation.Points.Count, numeric);
            for (int n = 0; n < numeric.Count; n++)
            {
                var p = explanation.Points[n];
                string where = $"{c.Name}, unit {unit}, point {p.Point} (i {p.KernelColumn}, j {p.KernelRow}) packed {explanation.Packed}";
                Assert.AreEqual(numeric[n].Dx, p.GradDx, FiniteDifferenceTolerance, $"{where}: ∂out/∂Δx");
                Assert.AreEqual(numeric[n].Dy, p.GradDy, FiniteDifferenceTolerance, $"{where}: ∂out/∂Δy");
                Assert.AreEqual(numeric[n].Mask, p.GradMask, FiniteDifferenceTolerance, $"{where}: ∂out/∂m");
            }
        }
    }

    [TestMethod]
    public void Explain_HandPlacedPoint_GivesTheCornerFormulas()
    {
        // One channel 3×4 (values 1..12 row-major), a 1×1 kernel, stride (3, 4): the single unit samples at
        // (x, y) = (Δx, Δy)·s with s = 2, here (1.5, 1.25). lt = (1, 1) = 6, rt = 7, lb = 10, rb = 11; lx = 0.5, ly = 0.25.
        var input = Tensor<double>.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 1, 3, 4, 1);
        var call = new Dcnv3Call<double>(input, Tensor<double>.FromArray([0.75, 0.625], 1, 1, 1, 2), Tensor<double>.FromArray([0.5], 1, 1, 1, 1),
            (1, 1), Stride: (3, 4), OffsetScale: 2.0);
        var p = Dcnv3Explainer.Explain(call, new OutputUnit(0, 0, 0, 0)).Points.Single();
        Assert.AreEqual(1.5, p.X);
        Assert.AreEqual(1.25, p.Y);
        CollectionAssert.AreEqual(new[] { 6.0, 7.0, 10.0, 11.0 }, p.Corners.Select(q => q.Values[0]).ToArray());
        CollectionAssert.AreEqual(new[] { 0.375, 0.375, 0.125, 0.125 }, p.Corners.Select(q => q.Coefficient).ToArray());
        // ∂g/∂x = −(1−ly), 1−ly, −ly, ly; contributions m·(∂g/∂x)·v.
        CollectionAssert.AreEqual(new[] { -0.75, 0.75, -0.25, 0.25 }, p.Corners.Select(q => q.CoefficientDx).ToArray());
        CollectionAssert.AreEqual(new[] { -2.25, 2.625, -1.25, 1.375 }, p.Corners.Select(q => q.ContributionDx).ToArray());
        Assert.AreEqual(0.5, p.GradX, 1e-15, "m·(column right − column left) = 0.5·1");
        Assert.AreEqual(2.0, p.GradY, 1e-15, "m·(row below − row above) = 0.5·4");
        Assert.AreEqual(1.0, p.GradDx, 1e-15, "∂out/∂Δx = s·∂out/∂x");
        Assert.AreEqual(4.0, p.GradDy, 1e-15, "∂out/∂Δy = s·∂out/∂y");
        Assert.AreEqual(7.5, p.GradMask, 1e-15, "∂out/∂m = the sample");
    }

    [TestMethod]
    [DataRow(-1.0, 0.0, true, DisplayName = "x = −1 exactly: no sample, a slope")]
    [DataRow(-1.25, 0.0, false, DisplayName = "x < −1: nothing")]
    [DataRow(4.0, 0.0, false, DisplayName = "x = W: nothing")]
    [DataRow(double.NaN, 0.0, false, DisplayName = "NaN: nothing")]
    public void Explain_BorderOfTheSupport_FollowsGridSample(double x, double y, bool anyCorner)
    {
        var input = Tensor<double>.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 1, 3, 4, 1);
        var call = new Dcnv3Call<double>(input, Tensor<double>.FromArray([x, y], 1, 1, 1, 2), Tensor<double>.FromArray([0.5], 1, 1, 1, 1),
            (1, 1), Stride: (3, 4));
        var explanation = Dcnv3Explainer.Explain(call, new OutputUnit(0, 0, 0, 0));
        var p = explanation.Points.Single();
        Assert.AreEqual(anyCorner, p.AnyCorner);
        Assert.AreEqual(0.0, explanation.Output);
        // At x = −1 only rt = (0, 0) = 1 is in the map, with coefficient 0: ∂out/∂x = m·1.
        Assert.AreEqual(anyCorner ? 0.5 : 0.0, p.GradDx);
        Assert.AreEqual(0.0, Dcnv3Explainer.CompareWithEngine(call, explanation).MaxError);
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void IndexPathAblation_RandomConfiguration_OffsetGradientIsExactlyZero(int seed)
    {
        var c = Random(seed);
        bool realNonZero = false;
        foreach (var unit in c.Units)
        {
            var result = Dcnv3IndexPathAblation.Run(c.Dcnv3, unit);
            TensorAssert.AllEqual(result.IndexOnlyGradOffset, 0.0, $"{c.Name}, unit {unit}: index-only ∂out/∂offset");
            Assert.AreEqual(result.RealOutput, result.IndexOnlyOutput, "the ablation changes the backward only");
            realNonZero |= result.RealGradOffset.ToArray().Any(v => v != 0);
            var packed = Dcnv3IndexPathAblation.Run(c.Dcnv4, unit);
            Assert.IsTrue(packed.Rows.All(r => r.IndexOnlyDx == 0 && r.IndexOnlyDy == 0), $"{c.Name}, unit {unit}: DCNv4 index-only ∂out/∂Δ");
        }
        Assert.IsTrue(realNonZero, $"{c.Name}: the real offset gradient should not be zero for every unit");
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void IndexPathAblation_RealGraph_MatchesEngine(int seed)
    {
        var c = Random(seed);
        var unit = c.Units[0];
        var explanation = Dcnv3Explainer.Explain(c.Dcnv3, unit);
        var result = Dcnv3IndexPathAblation.Run(c.Dcnv3, unit);
        Assert.AreEqual(explanation.Output, result.RealOutput, SameSumTolerance, "out[unit]");
        TensorAssert.Close(Tensor<double>.FromArray(explanation.OffsetGradient(), c.Dcnv3.Offset.Shape), result.RealGradOffset, SameSumTolerance,
            $"{c.Name}: real ∂out/∂offset");
        // DCNv4: the ablation leaves the mask entries' gradient alone.
        var packed = Dcnv3Explainer.Explain(c.Dcnv4, unit);
        var expected = packed.OffsetGradient().Zip(packed.MaskGradient(), (a, b) => a + b).ToArray();
        var masksOnly = packed.MaskGradient();
        var dcnv4 = Dcnv3IndexPathAblation.Run(c.Dcnv4, unit);
        TensorAssert.Close(Tensor<double>.FromArray(expected, c.Dcnv4.OffsetMask.Shape), dcnv4.RealGradOffset, SameSumTolerance, "DCNv4 real");
        TensorAssert.Close(Tensor<double>.FromArray(masksOnly, c.Dcnv4.OffsetMask.Shape), dcnv4.IndexOnlyGradOffset, SameSumTolerance, "DCNv4 index-only");
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Dcnv3Paths_BothPaths_ForwardAndInputAndMaskGradientsEqualEngine(int seed)
    {
        var c = Random(seed);
        var gradOutput = Tensor<double>.Randn(seed + 1000, c.Dcnv3.Run().Shape);
        var engine = Gradients(c.Dcnv3, gradOutput, null);
        foreach (var path in new[] { OffsetPath.IndicesAndCoefficients, OffsetPath.IndicesOnly })
        {
            var composed = Gradients(c.Dcnv3, gradOutput, path);
            for (int t = 0; t < engine.Length; t++)
            {
                if (path == OffsetPath.IndicesOnly && engine[t].Name == "offset") continue;
                TensorAssert.Close(engine[t].Value, composed[t].Value, SameSumTolerance, $"{c.Name}, {path}: {engine[t].Name}");
            }
        }
    }

    private static (string Name, Tensor<double> Value)[] Gradients(Dcnv3Call<double> call, Tensor<double> gradOutput, OffsetPath? path)
    {
        var input = call.Input.Detach();
        var offset = call.Offset.Detach();
        var mask = call.Mask.Detach();
        input.RequiresGrad = offset.RequiresGrad = mask.RequiresGrad = true;
        var leaves = call with { Input = input, Offset = offset, Mask = mask };
        var output = path is { } p ? Dcnv3Paths.Forward(leaves, p) : leaves.Run();
        output.Backward(gradOutput);
        return [("output", output.Detach()), ("input", input.Grad!), ("offset", offset.Grad!), ("mask", mask.Grad!)];
    }

    [TestMethod]
    public void Dcnv3Paths_NonFiniteOffset_ThrowsNamingTheCall()
    {
        var call = new Dcnv3Call<double>(Tensor<double>.Zeros(1, 3, 3, 1), Tensor<double>.FromArray([double.NaN, 0], 1, 1, 1, 2),
            Tensor<double>.Ones(1, 1, 1, 1), (1, 1), Stride: (3, 3));
        var error = Assert.ThrowsExactly<ArgumentException>(() => Dcnv3Paths.Forward(call, OffsetPath.IndicesOnly));
        StringAssert.Contains(error.Message, "finite");
    }

    [TestMethod]
    public void Explain_UnitOutsideOutput_ThrowsNamingTheUnit()
    {
        var c = Random(1);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Dcnv3Explainer.Explain(c.Dcnv3, new OutputUnit(0, 99, 0, 0)));
        Assert.AreEqual("unit", error.ParamName);
    }

    [TestMethod]
    public void Explain_BadMaskShape_ThrowsLikeTheEngine()
    {
        var call = new Dcnv3Call<double>(Tensor<double>.Zeros(1, 4, 4, 2), Tensor<double>.Zeros(1, 2, 2, 18), Tensor<double>.Zeros(1, 2, 2, 8), (3, 3));
        var error = Assert.ThrowsExactly<ArgumentException>(() => Dcnv3Explainer.Explain(call, new OutputUnit(0, 0, 0, 0)));
        Assert.AreEqual("mask", error.ParamName);
    }
}

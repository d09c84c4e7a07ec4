using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

[TestClass]
public class GridSampleTests
{
    // Closed forms below are sums of a few exactly representable products.
    private const double ExactTolerance = 1e-15;

    // 2×3 image [[1, 2, 3], [4, 5, 6]].
    private static Tensor<double> Image() => Tensor<double>.FromArray([1, 2, 3, 4, 5, 6], 1, 1, 2, 3);

    private static double At(Tensor<double> image, double x, double y, GridSampleMode mode = GridSampleMode.Bilinear,
        GridSamplePadding padding = GridSamplePadding.Zeros, bool alignCorners = false) =>
        Functional.GridSample(image, Tensor<double>.FromArray([x, y], 1, 1, 1, 2), mode, padding, alignCorners)[0, 0, 0, 0];

    [TestMethod]
    public void GridSample_AlignCornersCorners_ReadThePixelCentres()
    {
        // align_corners: ±1 are the centres of the end pixels.
        Assert.AreEqual(1.0, At(Image(), -1, -1, alignCorners: true), ExactTolerance);
        Assert.AreEqual(6.0, At(Image(), 1, 1, alignCorners: true), ExactTolerance);
        Assert.AreEqual(2.0, At(Image(), 0, -1, alignCorners: true), ExactTolerance);
    }

    [TestMethod]
    public void GridSample_NoAlignCorners_MapsOntoPixelEdges()
    {
        // Without align_corners x_pix = (g + 1)·W/2 − 0.5: g = 0 is x_pix = 1, y_pix = 0.5 → (2 + 5)/2.
        Assert.AreEqual(3.5, At(Image(), 0, 0), ExactTolerance);
        // g = −1 is the left edge x_pix = −0.5: half of column 0 (the rest reads zero padding), rows as above.
        Assert.AreEqual(0.5 * 2.5, At(Image(), -1, 0), ExactTolerance);
    }

    [TestMethod]
    public void GridSample_Nearest_RoundsHalfToEven()
    {
        // W = 3, g_x = 0 → x_pix = 1 exactly; H = 2, g_y = 0 → y_pix = 0.5 → rounds to row 0 (even).
        Assert.AreEqual(2.0, At(Image(), 0, 0, GridSampleMode.Nearest), ExactTolerance);
        // g_y = 1 → y_pix = 1.5 → row 2 (even), outside: zero padding; Border clips y_pix to 1 first.
        Assert.AreEqual(0.0, At(Image(), 0, 1, GridSampleMode.Nearest), ExactTolerance);
        Assert.AreEqual(5.0, At(Image(), 0, 1, GridSampleMode.Nearest, GridSamplePadding.Border), ExactTolerance);
    }

    [TestMethod]
    public void GridSample_Border_ClampsFarPoints()
    {
        Assert.AreEqual(3.0, At(Image(), 7, -5, padding: GridSamplePadding.Border), ExactTolerance);
        Assert.AreEqual(4.0, At(Image(), -7, 5, padding: GridSamplePadding.Border, alignCorners: true), ExactTolerance);
        Assert.AreEqual(6.0, At(Image(), double.PositiveInfinity, 5, padding: GridSamplePadding.Border), ExactTolerance);
    }

    [TestMethod]
    public void GridSample_Reflection_MirrorsAtTheBorder()
    {
        // align_corners, W = 3: g_x = 1.5 → x_pix = 2.5, mirrored about 2 → 1.5 → (2 + 3)/2 on row 0.
        Assert.AreEqual(2.5, At(Image(), 1.5, -1, padding: GridSamplePadding.Reflection, alignCorners: true), ExactTolerance);
        // No align_corners, W = 3: mirrors at the edge −0.5: g_x = −1.5 → x_pix = −1.25 → 0.25, row 0.
        Assert.AreEqual(1.25, At(Image(), -1.5, -0.5, padding: GridSamplePadding.Reflection), ExactTolerance);
    }

    [TestMethod]
    public void GridSample_NanGrid_ReadsZeroWithZeroGradient()
    {
        foreach (var padding in Enum.GetValues<GridSamplePadding>())
        {
            var image = Image();
            var grid = Tensor<double>.FromArray([double.NaN, 0, 0.2, double.NaN], 1, 1, 2, 2);
            image.RequiresGrad = true;
            grid.RequiresGrad = true;
            var output = Functional.GridSample(image, grid, GridSampleMode.Bilinear, padding);
            output.Backward(Tensor<double>.Ones(output.Shape));
            TensorAssert.AllEqual(output, 0.0, $"{padding}: output");
            TensorAssert.AllEqual(image.Grad!, 0.0, $"{padding}: grad input");
            TensorAssert.AllEqual(grid.Grad!, 0.0, $"{padding}: grad grid");
        }
    }

    [TestMethod]
    public void GridSample_Nearest_GridGradientIsZero()
    {
        var image = Tensor<double>.Randn(1, 2, 3, 4, 5);
        var grid = Tensor<double>.Rand(2, 2, 3, 3, 2).MulScalar(2.0).AddScalar(-1.0);
        grid.RequiresGrad = true;
        Functional.GridSample(image, grid, GridSampleMode.Nearest).Sum().Backward();
        TensorAssert.AllEqual(grid.Grad!, 0.0, "grad grid");
    }

    /// <summary>Grid values whose pixel coordinates lie in [−size, 2·size] with fractional parts in
    /// (0.1, 0.4) ∪ (0.6, 0.9): away from the kinks of bilinear interpolation (integers), from the
    /// reflection points (integers or half-integers) and from nearest mode's ties (half-integers).</summary>
    private static Tensor<double> SmoothGrid(long seed, int n, int outH, int outW, int h, int w, bool alignCorners)
    {
        var rng = new SeededRandom(seed);
        var data = new double[n * outH * outW * 2];
        for (int i = 0; i < data.Length; i++)
        {
            int size = i % 2 == 0 ? w : h;
            double fraction = 0.1 + 0.3 * rng.NextDouble() + (rng.NextInt(2) == 0 ? 0 : 0.5);
            double pixel = rng.NextInt(3 * size + 1) - size + fraction;
            data[i] = alignCorners ? 2 * pixel / (size - 1) - 1 : (2 * pixel + 1) / size - 1;
        }
        return Tensor<double>.FromArray(data, n, outH, outW, 2);
    }

    [TestMethod]
    [DataRow(GridSampleMode.Bilinear, GridSamplePadding.Zeros, false)]
    [DataRow(GridSampleMode.Bilinear, GridSamplePadding.Zeros, true)]
    [DataRow(GridSampleMode.Bilinear, GridSamplePadding.Border, false)]
    [DataRow(GridSampleMode.Bilinear, GridSamplePadding.Border, true)]
    [DataRow(GridSampleMode.Bilinear, GridSamplePadding.Reflection, false)]
    [DataRow(GridSampleMode.Bilinear, GridSamplePadding.Reflection, true)]
    [DataRow(GridSampleMode.Nearest, GridSamplePadding.Zeros, false)]
    [DataRow(GridSampleMode.Nearest, GridSamplePadding.Reflection, true)]
    public void GridSample_GradCheck_Passes(GridSampleMode mode, GridSamplePadding padding, bool alignCorners)
    {
        var input = Tensor<double>.Randn(11, 2, 3, 4, 5);
        var grid = SmoothGrid(12, 2, 3, 4, 4, 5, alignCorners);
        var result = GradCheck.Check(t => Functional.GridSample(t[0], t[1], mode, padding, alignCorners), [input, grid],
            names: ["input", "grid"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }
}

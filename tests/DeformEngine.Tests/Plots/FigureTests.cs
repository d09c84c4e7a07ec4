using DeformEngine.Explain;
using DeformEngine.Plotting;

namespace DeformEngine.Tests.Plots;

[TestClass]
public class FigureTests
{
    // A pixel this dark on a white figure is ink (text, axes), not background.
    private const int InkLevel = 100;

    [TestMethod]
    public void Figure_EncodePng_ValidPngOfTheFigureSize()
    {
        var figure = new Figure("a figure", rows: 2, columns: 3, panelWidth: 150, panelHeight: 120);
        figure[1, 2].Add.Scatter(new double[] { 0, 1, 2 }, new double[] { 1, 0, 2 });
        var png = PngReader.Read(figure.EncodePng());
        Assert.AreEqual(3 * 150, png.Width, "width = columns · panel width");
        Assert.AreEqual(figure.Height, png.Height);
        Assert.IsGreaterThan(2 * 120, png.Height, "two rows of panels below a title band");
    }

    [TestMethod]
    public void Figure_SavePng_WritesTheSameBytesAsEncode()
    {
        var figure = new Figure("saved", 1, 1, 200, 150);
        string path = Path.Combine(Path.GetTempPath(), $"deformengine-figure-{Environment.ProcessId}.png");
        try
        {
            figure.SavePng(path);
            CollectionAssert.AreEqual(figure.EncodePng(), File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void Figure_Title_IsDrawnAsText()
    {
        // Without a usable font Skia draws no text at all: the embedded font must put ink in the title band.
        var titled = PngReader.Read(new Figure("Sampling locations Δp", 1, 1, 300, 150).EncodePng());
        var untitled = PngReader.Read(new Figure("", 1, 1, 300, 150).EncodePng());
        Assert.IsGreaterThan(80, InkInRows(titled, 0, 25), "the title's glyphs");
        Assert.AreEqual(0, InkInRows(untitled, 0, 25), "no title, no ink in the band");
    }

    [TestMethod]
    public void Figure_LongTitle_WrapsOntoMoreLines()
    {
        var oneLine = new Figure("short", 1, 1, 200, 150);
        var wrapped = new Figure(string.Join(' ', Enumerable.Repeat("a long title", 12)), 1, 1, 200, 150);
        Assert.IsGreaterThan(oneLine.Height, wrapped.Height);
        Assert.AreEqual(oneLine.Width, wrapped.Width, "wrapping keeps the width");
    }

    [TestMethod]
    public void Figure_Legend_AddsABandBelowThePanels()
    {
        var plain = new Figure("t", 1, 1, 200, 150);
        var withLegend = new Figure("t", 1, 1, 200, 150);
        withLegend.Legend.Add(new ScottPlot.LegendItem { LabelText = "entry" });
        Assert.IsGreaterThan(plain.Height, withLegend.Height);
        var png = PngReader.Read(withLegend.EncodePng());
        Assert.IsGreaterThan(0, InkInRows(png, plain.Height, png.Height), "the legend's text");
    }

    [TestMethod]
    public void Figure_BadSizes_Throw()
    {
        Assert.AreEqual("rows", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Figure("t", 0, 1, 100, 100)).ParamName);
        Assert.AreEqual("panelWidth", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Figure("t", 1, 1, 10, 100)).ParamName);
    }

    [TestMethod]
    public void Plots_SameData_SameBytesAndExpectedSize()
    {
        var first = MakePlots(seed: 11);
        var second = MakePlots(seed: 11);
        var other = MakePlots(seed: 12);
        for (int p = 0; p < first.Count; p++)
        {
            CollectionAssert.AreEqual(first[p].Bytes, second[p].Bytes, $"plot {p} is deterministic");
            var png = PngReader.Read(first[p].Bytes);
            Assert.AreEqual(first[p].Figure.Width, png.Width, $"plot {p} width");
            Assert.AreEqual(first[p].Figure.Height, png.Height, $"plot {p} height");
        }
        CollectionAssert.AreNotEqual(first[0].Bytes, other[0].Bytes, "other offsets give another sampling plot");
    }

    [TestMethod]
    public void Plots_SamplingLocations_OneRowPerUnitTwoPanelsWide()
    {
        var (image, layers) = Scene(seed: 3);
        var one = Plotting.Plots.SamplingLocations(image, layers, [(5, 5)], "t", scale: 4);
        var two = Plotting.Plots.SamplingLocations(image, layers, [(5, 5), (2, 8)], "t", scale: 4);
        Assert.AreEqual(2, one.Columns);
        Assert.AreEqual(two.Width, one.Width);
        Assert.AreEqual(one.PanelHeight, two.Height - one.Height, "one more row of panels");
        Assert.IsGreaterThanOrEqualTo(2 * image.Width * 4, one.Width, "two panels side by side");
        Assert.ThrowsExactly<ArgumentException>(() => Plotting.Plots.SamplingLocations(image, [SamplingLayer.Pooling(12, 12, 2, 2)], [(0, 0)], "t"));
    }

    [TestMethod]
    public void Plots_ReceptiveField_WrongMapLength_ThrowsNamingMaps()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            Plotting.Plots.ReceptiveField(4, 4, [("short", new double[15])], (1, 1), "t"));
        Assert.AreEqual("maps", error.ParamName);
        StringAssert.Contains(error.Message, "4·4 = 16");
    }

    private static List<(Figure Figure, byte[] Bytes)> MakePlots(long seed)
    {
        var (image, layers) = Scene(seed);
        var figures = new[]
        {
            Plotting.Plots.SamplingLocations(image, layers, [(6, 6), (3, 9)], "sampling"),
            Plotting.Plots.OffsetField(image, layers[0], "offsets", step: 2),
            Plotting.Plots.ReceptiveField(image.Height, image.Width, [("a", image.Pixels), ("b", image.Pixels.Select(v => v * v).ToArray())], (6, 6), "erf"),
        };
        return figures.Select(f => (f, f.EncodePng())).ToList();
    }

    /// <summary>A 12×12 image and two stacked 3×3 layers ('same' padding) with seeded offsets.</summary>
    private static (GrayImage Image, List<SamplingLayer> Layers) Scene(long seed)
    {
        var input = Tensor<double>.Rand(seed, 1, 1, 12, 12);
        var layers = new List<SamplingLayer>();
        for (int l = 0; l < 2; l++)
        {
            var call = new DeformConvCall<double>(Tensor<double>.Zeros(1, 1, 12, 12),
                Tensor<double>.Randn(seed * 10 + l, 1, 18, 12, 12), Tensor<double>.Zeros(1, 1, 3, 3), Padding: (1, 1));
            layers.Add(SamplingLayer.From(call));
        }
        return (GrayImage.From(input), layers);
    }

    internal static int InkInRows(PngReader.Image png, int fromRow, int toRow)
    {
        int count = 0;
        for (int y = fromRow; y < Math.Min(toRow, png.Height); y++)
            for (int x = 0; x < png.Width; x++)
            {
                var (r, g, b) = png[x, y];
                if (r < InkLevel && g < InkLevel && b < InkLevel) count++;
            }
        return count;
    }
}

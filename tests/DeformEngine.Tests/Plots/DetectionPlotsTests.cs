using DeformEngine.Explain;
using DeformEngine.Plotting;

namespace DeformEngine.Tests.Plots;

[TestClass]
public class DetectionPlotsTests
{
    [TestMethod]
    public void RoIBins_TwoCanvases_ValidPngTwoPanelsWide()
    {
        var canvases = new[] { Canvas("a", modulation: false), Canvas("b", modulation: false) };
        var figure = DetectionPlots.RoIBins(canvases, "bins", "learned", scale: 2);
        var png = PngReader.Read(figure.EncodePng());
        Assert.AreEqual(2, figure.Rows);
        Assert.AreEqual(2 * figure.PanelWidth, png.Width);
        Assert.AreEqual(figure.Height, png.Height);
    }

    [TestMethod]
    public void Modulation_ValidPng_AndMissingMasksThrowNamingCanvases()
    {
        var figure = DetectionPlots.Modulation([Canvas("a", modulation: true)], "masks", bins: 3, scale: 2);
        var png = PngReader.Read(figure.EncodePng());
        Assert.AreEqual(figure.Width, png.Width);
        var error = Assert.ThrowsExactly<ArgumentException>(() => DetectionPlots.Modulation([Canvas("a", modulation: false)], "masks", bins: 3));
        Assert.AreEqual("canvases", error.ParamName);
    }

    [TestMethod]
    public void TrainingCurves_ValidPng_AndNoCurvesThrow()
    {
        var figure = DetectionPlots.TrainingCurves(
            [new TrainingCurve("a", [2.0, 1.5, 1.2], [0.4, 0.5, 0.6], 0), new TrainingCurve("a + x", [2.1, 1.4, 1.1], [0.4, 0.55, 0.62], 0, Dashed: true)],
            "curves", "loss", "accuracy");
        var png = PngReader.Read(figure.EncodePng());
        Assert.AreEqual(figure.Height, png.Height);
        Assert.AreEqual("curves", Assert.ThrowsExactly<ArgumentException>(() => DetectionPlots.TrainingCurves([], "t", "l", "a")).ParamName);
    }

    [TestMethod]
    public void RoIBins_CanvasesOfDifferentSizes_Throw()
    {
        var small = Canvas("a", modulation: false) with { Image = new GrayImage(10, 10, new double[100]) };
        Assert.AreEqual("canvases", Assert.ThrowsExactly<ArgumentException>(
            () => DetectionPlots.RoIBins([Canvas("b", modulation: false), small], "t", "learned")).ParamName);
    }

    private static CanvasRoIs Canvas(string title, bool modulation)
    {
        var pixels = Enumerable.Range(0, 48 * 48).Select(i => (i % 48) / 48.0).ToArray();
        var box = new Rect(8, 10, 30, 40);
        var regular = new List<Rect>();
        var moved = new List<Rect>();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                var bin = new Rect(box.X1 + j * 22 / 3.0, box.Y1 + i * 10, box.X1 + (j + 1) * 22 / 3.0, box.Y1 + (i + 1) * 10);
                regular.Add(bin);
                moved.Add(bin with { X1 = bin.X1 + 1, X2 = bin.X2 + 1 });
            }
        var masks = modulation ? Enumerable.Range(0, 9).Select(k => k / 8.0).ToList() : null;
        return new CanvasRoIs(title, new GrayImage(48, 48, pixels), [new BinnedRoI("thing", box, regular, moved, masks)]);
    }
}

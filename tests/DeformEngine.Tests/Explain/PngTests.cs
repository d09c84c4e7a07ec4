using DeformEngine.Explain;
using DeformEngine.IO;

namespace DeformEngine.Tests.Explain;

[TestClass]
public class PngTests
{
    [TestMethod]
    public void Crc32_CheckString_MatchesStandardValue()
    {
        Assert.AreEqual(0xCBF43926u, Crc32.Compute("123456789"u8));
    }

    [TestMethod]
    [DataRow(1, 1)]
    [DataRow(7, 3)]
    [DataRow(300, 200)]
    public void Png_Encode_DecodesToSameSizeAndPixels(int width, int height)
    {
        var rng = new SeededRandom(width * 1000 + height);
        var rgb = new byte[width * height * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)rng.NextInt(256);
        var image = PngDecoder.Decode(Png.Encode(width, height, rgb));
        Assert.AreEqual(width, image.Width);
        Assert.AreEqual(height, image.Height);
        CollectionAssert.AreEqual(rgb, image.Rgb);
        CollectionAssert.AreEqual(new[] { "IHDR", "IDAT", "IEND" }, image.Chunks);
    }

    [TestMethod]
    public void Png_WrongBufferLength_ThrowsNamingRgb()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => Png.Encode(2, 2, new byte[11]));
        Assert.AreEqual("rgb", error.ParamName);
        StringAssert.Contains(error.Message, "12 bytes");
    }

    [TestMethod]
    public void Png_ZeroWidth_Throws()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Png.Encode(0, 2, []));
    }

    [TestMethod]
    public void Canvas_Text_DrawsGlyphPixels()
    {
        var canvas = new Canvas(20, 10, Rgb.White);
        canvas.Text(1, 1, "1", Rgb.Black);
        // '1' has its stem in the middle column (x = 1 + 2) on every row.
        for (int row = 1; row < 8; row++) Assert.AreEqual(Rgb.Black, canvas[3, row], $"stem row {row}");
        Assert.AreEqual(Rgb.White, canvas[15, 5], "nothing drawn past the glyph");
    }

    [TestMethod]
    public void Plots_SameSeed_SameBytesAndExpectedSize()
    {
        var first = MakePlots(seed: 11);
        var second = MakePlots(seed: 11);
        var other = MakePlots(seed: 12);
        for (int p = 0; p < first.Count; p++)
        {
            CollectionAssert.AreEqual(first[p].Bytes, second[p].Bytes, $"plot {p} is deterministic");
            var image = PngDecoder.Decode(first[p].Bytes);
            Assert.AreEqual(first[p].Canvas.Width, image.Width, $"plot {p} width");
            Assert.AreEqual(first[p].Canvas.Height, image.Height, $"plot {p} height");
        }
        CollectionAssert.AreNotEqual(first[0].Bytes, other[0].Bytes, "another seed gives another sampling plot");
    }

    [TestMethod]
    public void Plots_SamplingLocations_SizeFollowsImageScaleAndUnits()
    {
        var (image, layers) = Scene(seed: 3);
        var one = Plots.SamplingLocations(image, layers, [(5, 5)], "t", scale: 4);
        var two = Plots.SamplingLocations(image, layers, [(5, 5), (2, 8)], "t", scale: 4);
        Assert.AreEqual(two.Width, one.Width);
        Assert.AreEqual(image.Height * 4 + 38, two.Height - one.Height, "one more row: title line, panel, tick labels");
        Assert.IsGreaterThanOrEqualTo(2 * image.Width * 4, one.Width, "two panels side by side");
    }

    [TestMethod]
    public void SamplingLayer_Pooling_PlacesUnitsAtWindowCentres()
    {
        var pool = SamplingLayer.Pooling(28, 28, kernel: 2, stride: 2);
        Assert.IsFalse(pool.DrawsSamples);
        Assert.AreEqual(14, pool.Geometry.Conv.OutH);
        Assert.AreEqual((6.5, 8.5), pool.OutputToInput(3, 4), "a 2×2 window covers pixels 2y, 2y + 1");
        Assert.AreEqual((3, 4), pool.NearestUnit(6.5, 8.5));
        Assert.AreEqual("kernel", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SamplingLayer.Pooling(28, 28, 0, 2)).ParamName);
        Assert.AreEqual("inputHeight", Assert.ThrowsExactly<ArgumentException>(() => SamplingLayer.Pooling(1, 28, 2, 2)).ParamName);
    }

    [TestMethod]
    public void Plots_SamplingLocations_PoolingStepsDrawNothing()
    {
        var (image, layers) = Scene(seed: 5);
        var coarse = new DeformConvCall<double>(Tensor<double>.Zeros(1, 1, 6, 6), Tensor<double>.Randn(55, 1, 18, 6, 6),
            Tensor<double>.Zeros(1, 1, 3, 3), Padding: (1, 1));
        var pooled = new List<SamplingLayer> { layers[0], SamplingLayer.Pooling(12, 12, 2, 2), SamplingLayer.From(coarse) };
        var direct = Plots.SamplingLocations(image, layers, [(2, 3)], "t", scale: 4);
        var throughPool = Plots.SamplingLocations(image, pooled, [(2, 3)], "t", scale: 4);
        Assert.AreEqual(direct.Height, throughPool.Height, "two drawn layers: the same legend");
        Assert.ThrowsExactly<ArgumentException>(() => Plots.SamplingLocations(image, [SamplingLayer.Pooling(12, 12, 2, 2)], [(0, 0)], "t"));
    }

    private static List<(Canvas Canvas, byte[] Bytes)> MakePlots(long seed)
    {
        var (image, layers) = Scene(seed);
        var canvases = new[]
        {
            Plots.SamplingLocations(image, layers, [(6, 6), (3, 9)], "sampling"),
            Plots.OffsetField(image, layers[0], "offsets", step: 2),
            Plots.ReceptiveField(image.Height, image.Width, [("a", image.Pixels), ("b", image.Pixels.Select(v => v * v).ToArray())], (6, 6), "erf"),
        };
        return canvases.Select(c => (c, c.EncodePng())).ToList();
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
}

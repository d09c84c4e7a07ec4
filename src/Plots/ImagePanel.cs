using DeformEngine.Explain;
using ScottPlot;
using ScottPlot.Plottables;

namespace DeformEngine.Plotting;

/// <summary>Where an image's pixels sit in plot coordinates. <see cref="Centred"/>: pixel (r, c) is
/// the unit square centred on (x = c, y = r), the convention of convolution sampling positions.
/// <see cref="Cornered"/>: it covers [c, c + 1) × [r, r + 1), the convention of boxes (aligned RoI
/// Align: a box from x1 to x2 covers the pixels whose centres c + ½ lie between).</summary>
public enum PixelGrid
{
    Centred,
    Cornered,
}

/// <summary>Panels that show an image in its own pixel coordinates: x to the right, y downwards,
/// equal units on both axes, the pixel indices on the ticks.</summary>
internal static class ImagePanel
{
    public static readonly Color Ink = new(30, 30, 30);

    /// <summary>Draws <paramref name="image"/> in grey, its range stretched to [dark, light] so that
    /// markers in black or white stay visible on it, and sets the axes to the image.</summary>
    public static Heatmap Gray(Plot plot, GrayImage image, PixelGrid grid, double dark = 0.1, double light = 0.85)
    {
        double low = image.Pixels.Min(), high = image.Pixels.Max();
        double range = high > low ? high - low : 1;
        // The colour map runs over [low − dark·span, low − dark·span + span] with span = range/(light − dark),
        // so that low lands at `dark` and high at `light` of the grey scale.
        double span = range / (light - dark);
        var heatmap = Values(plot, image.Height, image.Width, image.Pixels, grid, new ScottPlot.Colormaps.Grayscale());
        heatmap.ManualRange = new ScottPlot.Range(low - dark * span, low - dark * span + span);
        return heatmap;
    }

    /// <summary>A heat map of H·W row-major values over the image area, coloured by <paramref name="colormap"/>.</summary>
    public static Heatmap Values(Plot plot, int height, int width, IReadOnlyList<double> values, PixelGrid grid, IColormap colormap)
    {
        var cells = new double[height, width];
        for (int r = 0; r < height; r++)
            for (int c = 0; c < width; c++)
                cells[r, c] = values[r * width + c];
        var heatmap = plot.Add.Heatmap(cells);
        heatmap.Colormap = colormap;
        double origin = Origin(grid);
        heatmap.Rectangle = new CoordinateRect(origin, origin + width, origin, origin + height);
        ImageAxes(plot, height, width, grid);
        return heatmap;
    }

    /// <summary>Limits exactly around the image with y pointing down, square units, axis labels.</summary>
    public static void ImageAxes(Plot plot, int height, int width, PixelGrid grid)
    {
        double origin = Origin(grid);
        plot.Axes.SetLimits(origin, origin + width, origin + height, origin);
        plot.Axes.Rules.Add(new ScottPlot.AxisRules.SquareZoomOut(plot.Axes.Bottom, plot.Axes.Left));
        plot.XLabel("x (pixel)", 13);
        plot.YLabel("y (pixel)", 13);
        plot.Grid.IsVisible = false;
    }

    /// <summary>A panel title in the figure's size.</summary>
    public static void Title(Plot plot, string text) => plot.Title(text, 14);

    /// <summary>A colour bar on the right of the panel, labelled.</summary>
    public static void ColorBar(Plot plot, IHasColorAxis source, string label)
    {
        var bar = plot.Add.ColorBar(source);
        bar.Label = label;
        bar.LabelStyle.FontSize = 12;
        bar.LabelStyle.Bold = false;
    }

    private static double Origin(PixelGrid grid) => grid == PixelGrid.Centred ? -0.5 : 0;
}

using ScottPlot;
using SkiaSharp;

namespace DeformEngine.Plotting;

/// <summary>A figure as papers lay them out: a title line, a grid of ScottPlot plots (panels) of one
/// size, and optionally one legend for the whole figure under the grid. Rendered with Skia into a PNG
/// of exactly <see cref="Width"/> × <see cref="Height"/> pixels.</summary>
public sealed class Figure
{
    private const int TitleLineHeight = 23, TitlePadding = 12, TitleFontSize = 16, LegendPadding = 12;
    private readonly Plot[,] _panels;

    /// <param name="title">The line above the panels.</param>
    /// <param name="rows">Rows of panels.</param>
    /// <param name="columns">Columns of panels.</param>
    /// <param name="panelWidth">Width of each panel in pixels, axes and colour bar included.</param>
    /// <param name="panelHeight">Height of each panel in pixels.</param>
    public Figure(string title, int rows, int columns, int panelWidth, int panelHeight)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(panelWidth, 50);
        ArgumentOutOfRangeException.ThrowIfLessThan(panelHeight, 50);
        PlotFonts.Register();
        Title = title;
        PanelWidth = panelWidth;
        PanelHeight = panelHeight;
        _panels = new Plot[rows, columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                _panels[r, c] = new Plot();
    }

    public string Title { get; }
    public int Rows => _panels.GetLength(0);
    public int Columns => _panels.GetLength(1);
    public int PanelWidth { get; }
    public int PanelHeight { get; }

    /// <summary>Entries of the figure's legend, one per line under the panels (none: no legend band).</summary>
    public List<LegendItem> Legend { get; } = [];

    public int Width => Columns * PanelWidth;
    public int Height => TitleHeight + Rows * PanelHeight + LegendHeight;

    /// <summary>The title wrapped at spaces to the figure's width, one or more lines.</summary>
    private int TitleHeight => TitleLines().Count * TitleLineHeight + TitlePadding;

    private int LegendHeight
    {
        get
        {
            using var legend = LegendImage();
            return legend is null ? 0 : legend.Height + LegendPadding;
        }
    }

    /// <summary>The panel in row <paramref name="row"/>, column <paramref name="column"/>.</summary>
    public Plot this[int row, int column] => _panels[row, column];

    /// <summary>The figure as PNG bytes.</summary>
    public byte[] EncodePng()
    {
        var info = new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info)
            ?? throw new InvalidOperationException($"Skia could not create a {Width}×{Height} surface.");
        Render(surface.Canvas);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>Writes the figure to <paramref name="path"/> as a PNG (the folder must exist).</summary>
    public void SavePng(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        File.WriteAllBytes(path, EncodePng());
    }

    private void Render(SKCanvas canvas)
    {
        canvas.Clear(SKColors.White);
        using (var typeface = PlotFonts.Bold())
        using (var font = new SKFont(typeface, TitleFontSize))
        using (var paint = new SKPaint { Color = new SKColor(20, 20, 20), IsAntialias = true })
        {
            var lines = TitleLines();
            for (int line = 0; line < lines.Count; line++)
                canvas.DrawText(lines[line], 12, TitlePadding / 2 + (line + 1) * TitleLineHeight - 6, SKTextAlign.Left, font, paint);
        }
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
                DrawPlot(canvas, _panels[r, c], c * PanelWidth, TitleHeight + r * PanelHeight, PanelWidth, PanelHeight);
        if (Legend.Count > 0) DrawLegend(canvas, TitleHeight + Rows * PanelHeight);
    }

    private List<string> TitleLines()
    {
        using var typeface = PlotFonts.Bold();
        using var font = new SKFont(typeface, TitleFontSize);
        var lines = new List<string>();
        string current = "";
        foreach (string word in Title.Split(' '))
        {
            string candidate = current.Length == 0 ? word : current + " " + word;
            if (current.Length > 0 && font.MeasureText(candidate) > Width - 24)
            {
                lines.Add(current);
                current = word;
            }
            else
            {
                current = candidate;
            }
        }
        lines.Add(current);
        return lines;
    }

    /// <summary>Renders <paramref name="plot"/> on a surface of its own and copies it into place: a
    /// plot clears the whole canvas it is given to its background.</summary>
    private static void DrawPlot(SKCanvas canvas, Plot plot, int left, int top, int width, int height)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"Skia could not create a {width}×{height} surface.");
        plot.Render(surface.Canvas, new PixelRect(0, width, height, 0));
        using var image = surface.Snapshot();
        canvas.DrawImage(image, left, top);
    }

    /// <summary>The legend under the panels, at the left.</summary>
    private void DrawLegend(SKCanvas canvas, int top)
    {
        using var legend = LegendImage()!;
        using var image = SKImage.FromEncodedData(legend.GetImageBytes(ImageFormat.Png));
        canvas.DrawImage(image, 12, top);
    }

    /// <summary>ScottPlot's own legend of a plot that holds only <see cref="Legend"/>, one entry per
    /// line, cropped to its content; null without entries.</summary>
    private ScottPlot.Image? LegendImage()
    {
        if (Legend.Count == 0) return null;
        var holder = new Plot();
        holder.Legend.ManualItems.AddRange(Legend);
        holder.Legend.Orientation = Orientation.Vertical;
        holder.Legend.OutlineWidth = 0;
        holder.Legend.ShadowOffset = new PixelOffset(0, 0);
        holder.Legend.FontSize = 13;
        return holder.GetLegendImage();
    }
}

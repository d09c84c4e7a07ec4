using DeformEngine.Explain;
using ScottPlot;

namespace DeformEngine.Plotting;

/// <summary>A rectangle in image pixels, x2 and y2 exclusive (<see cref="PixelGrid.Cornered"/>).</summary>
public readonly record struct Rect(double X1, double Y1, double X2, double Y2)
{
    public double CenterX => (X1 + X2) / 2;
    public double CenterY => (Y1 + Y2) / 2;
}

/// <summary>One RoI with its pooling bins: where a regular pooling puts them, where the learned
/// offsets moved them, and (for a modulated pooling) each bin's modulation, all row-major over the
/// bin grid.</summary>
public sealed record BinnedRoI(string Label, Rect Box, IReadOnlyList<Rect> RegularBins, IReadOnlyList<Rect> DeformedBins,
    IReadOnlyList<double>? Modulation = null);

/// <summary>A canvas and the RoIs to draw on it.</summary>
public sealed record CanvasRoIs(string Title, GrayImage Image, IReadOnlyList<BinnedRoI> RoIs);

/// <summary>One run's curves over the epochs: the training loss and the test accuracy. Runs of one
/// <see cref="Group"/> share a colour; <see cref="Dashed"/> tells a variant apart.</summary>
public sealed record TrainingCurve(string Name, IReadOnlyList<double> Loss, IReadOnlyList<double> Accuracy, int Group, bool Dashed = false);

/// <summary>The detection example's figures: RoI bins on objects (DCNv1's figure), the modulation
/// of a modulated RoI pooling as a heat map over its bins, and training curves per head.</summary>
public static class DetectionPlots
{
    private static readonly Color[] RoIColors = [new(255, 200, 0), new(0, 200, 255), new(255, 80, 200), new(120, 230, 60)];
    private static readonly Color[] CurveColors = [new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40), new(148, 103, 189)];

    /// <summary>One row per canvas: the regular bins (left) and the learned bins (right) of each RoI,
    /// the RoI box drawn thick, each bin as a thin rectangle with its centre, and on the right a line
    /// from each bin's regular centre to its learned one.</summary>
    /// <param name="canvases">One row each; all images of one size.</param>
    /// <param name="title">The figure's title.</param>
    /// <param name="deformedName">What moved the bins, for the right column's title.</param>
    /// <param name="scale">Screen pixels per image pixel.</param>
    public static Figure RoIBins(IReadOnlyList<CanvasRoIs> canvases, string title, string deformedName, int scale = 4)
    {
        RequireCanvases(canvases);
        var first = canvases[0].Image;
        var figure = new Figure(title, canvases.Count, 2, first.Width * scale + 72, first.Height * scale + 92);
        for (int row = 0; row < canvases.Count; row++)
            for (int column = 0; column < 2; column++)
            {
                var plot = figure[row, column];
                var canvas = canvases[row];
                ImagePanel.Gray(plot, canvas.Image, PixelGrid.Cornered, dark: 0, light: 0.8);
                ImagePanel.Title(plot, $"{canvas.Title}: {(column == 0 ? "regular bins" : deformedName)}");
                for (int r = 0; r < canvas.RoIs.Count; r++)
                {
                    var roi = canvas.RoIs[r];
                    var color = RoIColors[r % RoIColors.Length];
                    DrawRect(plot, roi.Box, color.WithAlpha(0.9), 2.5f, null);
                    var bins = column == 0 ? roi.RegularBins : roi.DeformedBins;
                    foreach (var bin in bins) DrawRect(plot, bin, color.WithAlpha(column == 0 ? 0.55 : 0.35), 0.8f, null);
                    if (column == 1)
                        for (int b = 0; b < bins.Count; b++)
                        {
                            // The displacement of each bin, from where a regular pooling puts it.
                            var shift = plot.Add.Line(roi.RegularBins[b].CenterX, roi.RegularBins[b].CenterY, bins[b].CenterX, bins[b].CenterY);
                            shift.Color = color;
                            shift.LineWidth = 1.2f;
                        }
                    var centres = plot.Add.ScatterPoints(bins.Select(b => b.CenterX).ToArray(), bins.Select(b => b.CenterY).ToArray());
                    centres.MarkerShape = MarkerShape.FilledCircle;
                    centres.MarkerSize = column == 0 ? 3.5f : 4.5f;
                    centres.MarkerFillColor = color;
                    var label = plot.Add.Text(roi.Label, roi.Box.X1, roi.Box.Y1);
                    label.LabelFontColor = Colors.Black;
                    label.LabelBackgroundColor = color.WithAlpha(0.85);
                    label.LabelFontSize = 11;
                    label.LabelAlignment = Alignment.LowerLeft;
                }
            }
        figure.Legend.Add(new LegendItem { LabelText = "RoI (the detector's box)", LineStyle = new LineStyle { Color = RoIColors[0], Width = 2.5f } });
        figure.Legend.Add(new LegendItem
        {
            LabelText = "pooling bin (7×7) and its centre; right: moved by the learned offset (line: from its regular place)",
            LineStyle = new LineStyle { Color = RoIColors[0].WithAlpha(0.55), Width = 1 },
            MarkerStyle = new MarkerStyle(MarkerShape.FilledCircle, 5, RoIColors[0]),
        });
        return figure;
    }

    /// <summary>One panel per canvas: each RoI's modulation (one value per bin) as a heat map over the
    /// RoI, bin (i, j) at its regular place, over the canvas. One colour scale for the whole figure,
    /// from the smallest to the largest value shown (a sigmoid mask that stays near ½ would otherwise
    /// be one flat colour on a 0-to-1 scale); the colour bars give the numbers.</summary>
    public static Figure Modulation(IReadOnlyList<CanvasRoIs> canvases, string title, int bins, int scale = 4)
    {
        RequireCanvases(canvases);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bins);
        foreach (var canvas in canvases)
            foreach (var roi in canvas.RoIs)
                if (roi.Modulation is null || roi.Modulation.Count != bins * bins)
                    throw new ArgumentException(
                        $"canvases: RoI '{roi.Label}' of '{canvas.Title}' needs one modulation value per bin ({bins}·{bins}), got {roi.Modulation?.Count ?? 0}.",
                        nameof(canvases));
        var first = canvases[0].Image;
        var all = canvases.SelectMany(c => c.RoIs).SelectMany(r => r.Modulation!).ToList();
        double low = all.DefaultIfEmpty(0).Min(), high = all.DefaultIfEmpty(1).Max();
        var range = high > low ? new ScottPlot.Range(low, high) : new ScottPlot.Range(low - 0.5, low + 0.5);
        var figure = new Figure(title, 1, canvases.Count, first.Width * scale + 72 + 70, first.Height * scale + 92);
        for (int column = 0; column < canvases.Count; column++)
        {
            var plot = figure[0, column];
            var canvas = canvases[column];
            ImagePanel.Gray(plot, canvas.Image, PixelGrid.Cornered, dark: 0, light: 0.8);
            ImagePanel.Title(plot, canvas.Title);
            ScottPlot.Plottables.Heatmap? last = null;
            foreach (var roi in canvas.RoIs)
            {
                var cells = new double[bins, bins];
                for (int i = 0; i < bins; i++)
                    for (int j = 0; j < bins; j++)
                        cells[i, j] = roi.Modulation![i * bins + j];
                var heatmap = plot.Add.Heatmap(cells);
                heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
                heatmap.ManualRange = range;
                heatmap.Rectangle = new CoordinateRect(roi.Box.X1, roi.Box.X2, roi.Box.Y1, roi.Box.Y2);
                heatmap.Opacity = 0.75;
                DrawRect(plot, roi.Box, Colors.White, 1.5f, null);
                last = heatmap;
            }
            if (last is not null) ImagePanel.ColorBar(plot, last, "modulation (sigmoid mask)");
        }
        figure.Legend.Add(new LegendItem
        {
            LabelText = $"the RoI; inside it each of the {bins}×{bins} bins coloured by its modulation (the bin's place before its offset)",
            LineStyle = new LineStyle { Color = Colors.Gray, Width = 1.5f },
        });
        return figure;
    }

    /// <summary>Two panels over the epochs: the mean training loss and the test accuracy (0 to 1) of each run.</summary>
    public static Figure TrainingCurves(IReadOnlyList<TrainingCurve> curves, string title, string lossTitle, string accuracyTitle)
    {
        ArgumentNullException.ThrowIfNull(curves);
        if (curves.Count == 0) throw new ArgumentException("curves: expected at least one run.", nameof(curves));
        var figure = new Figure(title, 1, 2, 520, 400);
        string[] titles = [lossTitle, accuracyTitle], axes = ["loss", "accuracy"];
        for (int panel = 0; panel < 2; panel++)
        {
            var plot = figure[0, panel];
            foreach (var curve in curves)
            {
                var values = panel == 0 ? curve.Loss : curve.Accuracy;
                if (values.Count == 0) continue;
                var line = plot.Add.Scatter(Enumerable.Range(1, values.Count).Select(e => (double)e).ToArray(), values.ToArray());
                line.Color = CurveColors[curve.Group % CurveColors.Length];
                line.LineWidth = 2;
                line.MarkerSize = 6;
                line.LinePattern = curve.Dashed ? LinePattern.Dashed : LinePattern.Solid;
            }
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
            if (panel == 1) plot.Axes.SetLimitsY(0, 1);
            plot.XLabel("epoch", 13);
            plot.YLabel(axes[panel], 13);
            ImagePanel.Title(plot, titles[panel]);
        }
        foreach (var curve in curves)
            figure.Legend.Add(new LegendItem
            {
                LabelText = curve.Name,
                LineStyle = new LineStyle
                {
                    Color = CurveColors[curve.Group % CurveColors.Length], Width = 2,
                    Pattern = curve.Dashed ? LinePattern.Dashed : LinePattern.Solid,
                },
            });
        return figure;
    }

    private static void DrawRect(Plot plot, Rect rect, Color line, float width, Color? fill)
    {
        var shape = plot.Add.Rectangle(rect.X1, rect.X2, rect.Y1, rect.Y2);
        shape.LineColor = line;
        shape.LineWidth = width;
        shape.FillColor = fill ?? Colors.Transparent;
    }

    private static void RequireCanvases(IReadOnlyList<CanvasRoIs> canvases)
    {
        ArgumentNullException.ThrowIfNull(canvases);
        if (canvases.Count == 0) throw new ArgumentException("canvases: expected at least one canvas.", nameof(canvases));
        var size = (canvases[0].Image.Height, canvases[0].Image.Width);
        foreach (var canvas in canvases)
            if ((canvas.Image.Height, canvas.Image.Width) != size)
                throw new ArgumentException(
                    $"canvases: expected images of one size ({size.Height}×{size.Width}), got {canvas.Image.Height}×{canvas.Image.Width} for '{canvas.Title}'.",
                    nameof(canvases));
    }
}

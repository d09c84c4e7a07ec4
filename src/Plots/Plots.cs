using DeformEngine.Explain;
using ScottPlot;

namespace DeformEngine.Plotting;

/// <summary>The explainer's figures: sampling locations through stacked deformable layers (regular
/// grid next to deformed points, as in the DCN papers), the offset field as arrows, and the effective
/// receptive field as heat maps with colour bars. Positions are in the image's pixel coordinates
/// (<see cref="PixelGrid.Centred"/>: a sampling position p sits at the centre of pixel p when p is an
/// integer); the traces come from <see cref="SamplingTrace"/>.</summary>
public static class Plots
{
    // Room around the data area for the title, tick labels and axis labels, chosen so that the
    // image's square pixels fill the data area.
    private const int HorizontalMargin = 72, VerticalMargin = 92, ColorBarWidth = 100;
    // Offsets shorter than this (in pixels) are drawn as plain lines: an arrowhead would outsize them.
    private const double ShortestArrow = 0.3;
    private static readonly Color UnitColor = new(0, 190, 215);
    private static readonly Color[] LevelColors = [new(40, 200, 60), new(230, 40, 40), new(250, 140, 0), new(50, 110, 240)];
    private static readonly float[] LevelSizes = [11, 6, 4.5f, 3.5f];

    /// <summary>(1) For each output unit (y, x) of the top layer, the positions its sampling points
    /// take in the image, followed down through the stack (<see cref="SamplingTrace.Follow"/>). One
    /// row per unit: regular grid (all offsets 0) on the left, deformable on the right.</summary>
    /// <param name="image">The bottom layer's input, drawn in grey.</param>
    /// <param name="layers">Bottom (reads the image) first; <see cref="SamplingLayer.Pooling"/> steps
    /// may sit between them (and below the first).</param>
    /// <param name="units">Output units (y, x) of the top layer, one row each.</param>
    /// <param name="title">The figure's title.</param>
    /// <param name="scale">Screen pixels per image pixel.</param>
    public static Figure SamplingLocations(GrayImage image, IReadOnlyList<SamplingLayer> layers,
        IReadOnlyList<(int Y, int X)> units, string title, int scale = 8)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(units);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        if (layers.Count == 0) throw new ArgumentException("layers: expected at least one layer.", nameof(layers));
        if (units.Count == 0) throw new ArgumentException("units: expected at least one output unit.", nameof(units));
        var drawn = layers.Where(l => l.DrawsSamples).ToList();
        if (drawn.Count == 0) throw new ArgumentException("layers: expected at least one layer with samples (not only pooling).", nameof(layers));

        var figure = new Figure(title, units.Count, 2, image.Width * scale + HorizontalMargin, image.Height * scale + VerticalMargin);
        var regular = layers.Select(l => l.Regular()).ToList();
        for (int row = 0; row < units.Count; row++)
        {
            var (uy, ux) = units[row];
            for (int column = 0; column < 2; column++)
            {
                bool deformed = column == 1;
                var plot = figure[row, column];
                ImagePanel.Gray(plot, image, PixelGrid.Centred);
                ImagePanel.Title(plot, $"{(deformed ? "deformable" : "regular")}: unit (y={uy}, x={ux})");
                var trace = SamplingTrace.Follow(deformed ? layers : regular, uy, ux);
                // The coarse top level is drawn last so that its larger markers stay on top.
                for (int level = trace.Levels.Count - 1; level >= 0; level--)
                {
                    var points = trace.Levels[level].Select(p => (Y: p.ImageY, X: p.ImageX)).Where(p => Inside(image, p)).ToList();
                    if (points.Count == 0) continue;
                    var scatter = plot.Add.ScatterPoints(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
                    scatter.MarkerShape = MarkerShape.FilledCircle;
                    scatter.MarkerSize = LevelSizes[Math.Min(level, LevelSizes.Length - 1)];
                    scatter.MarkerFillColor = LevelColors[Math.Min(level, LevelColors.Length - 1)];
                    scatter.MarkerLineColor = ImagePanel.Ink;
                    scatter.MarkerLineWidth = level == 0 ? 1.2f : 0;
                }
                var unit = plot.Add.Marker(trace.UnitCenter.X, trace.UnitCenter.Y, MarkerShape.OpenSquare, 14, UnitColor);
                unit.MarkerLineWidth = 2.5f;
            }
        }

        figure.Legend.Add(new LegendItem
        {
            LabelText = "output unit of the top layer (its centre in the image)",
            MarkerStyle = new MarkerStyle(MarkerShape.OpenSquare, 12, UnitColor) { LineWidth = 2.5f },
        });
        // Samples per level at most: each sample reaches one unit below, which a pooling step
        // widens to its whole window.
        var counts = new List<long>();
        long count = 1;
        foreach (var layer in layers.Reverse())
        {
            var cp = layer.Geometry.Conv;
            count *= layer.DrawsSamples ? layer.Geometry.KernelPoints : layer.IsPooling ? cp.KernelH * cp.KernelW : 1;
            if (layer.DrawsSamples) counts.Add(count);
        }
        for (int level = 0; level < drawn.Count; level++)
            figure.Legend.Add(new LegendItem
            {
                LabelText = $"samples of layer {drawn.Count - level} ({(level == 0 ? "" : "up to ")}{counts[level]} points)",
                MarkerStyle = new MarkerStyle(MarkerShape.FilledCircle, 10, LevelColors[Math.Min(level, LevelColors.Length - 1)]),
            });
        return figure;
    }

    /// <summary>(2) The offset field of one layer, one panel per kernel point (i, j): an arrow from
    /// the regular grid position p0 + p_k to the deformed sample p0 + p_k + Δp_k, at every
    /// <paramref name="step"/>-th output unit, drawn at true scale over the layer's input.</summary>
    public static Figure OffsetField(GrayImage image, SamplingLayer layer, string title, int step = 3, int scale = 6)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(step);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        var cp = layer.Geometry.Conv;
        var regular = layer.Regular();
        var figure = new Figure(title, cp.KernelH, cp.KernelW, image.Width * scale + HorizontalMargin, image.Height * scale + VerticalMargin);
        var gridColor = new Color(50, 110, 240);
        var arrowColor = new Color(230, 40, 40);
        for (int i = 0; i < cp.KernelH; i++)
            for (int j = 0; j < cp.KernelW; j++)
            {
                var plot = figure[i, j];
                ImagePanel.Gray(plot, image, PixelGrid.Centred, dark: 0.3, light: 0.75);
                ImagePanel.Title(plot, $"kernel point (i={i}, j={j})");
                int k = i * cp.KernelW + j;
                var starts = new List<(double Y, double X)>();
                for (int y = step / 2; y < cp.OutH; y += step)
                    for (int x = step / 2; x < cp.OutW; x += step)
                    {
                        var start = regular.Positions(y, x)[k];
                        if (!Inside(image, start)) continue;
                        var end = layer.Positions(y, x)[k];
                        starts.Add(start);
                        if (Math.Sqrt((end.Y - start.Y) * (end.Y - start.Y) + (end.X - start.X) * (end.X - start.X)) < ShortestArrow)
                        {
                            var stub = plot.Add.Line(start.X, start.Y, end.X, end.Y);
                            stub.Color = arrowColor;
                            stub.LineWidth = 1.5f;
                            continue;
                        }
                        var arrow = plot.Add.Arrow(new Coordinates(start.X, start.Y), new Coordinates(end.X, end.Y));
                        arrow.ArrowFillColor = arrowColor;
                        arrow.ArrowLineColor = arrowColor;
                        arrow.ArrowLineWidth = 0;
                        arrow.ArrowWidth = 1.5f;
                        arrow.ArrowheadWidth = 6;
                        arrow.ArrowheadLength = 6;
                        arrow.ArrowheadAxisLength = 6;
                        arrow.ArrowMinimumLength = 0;
                    }
                var grid = plot.Add.ScatterPoints(starts.Select(p => p.X).ToArray(), starts.Select(p => p.Y).ToArray());
                grid.MarkerShape = MarkerShape.FilledCircle;
                grid.MarkerSize = 4;
                grid.MarkerFillColor = gridColor;
            }
        figure.Legend.Add(new LegendItem { LabelText = "regular grid point p0 + p_k", MarkerStyle = new MarkerStyle(MarkerShape.FilledCircle, 8, gridColor) });
        figure.Legend.Add(new LegendItem
        {
            LabelText = "offset Δp_k, at true scale (arrow to the deformed sample)",
            LineStyle = new LineStyle { Color = arrowColor, Width = 2 },
        });
        return figure;
    }

    /// <summary>(3) Effective receptive fields: each map (H·W values, e.g. Σ_c |∂out[unit]/∂input[c]|)
    /// as a heat map with its own colour bar (0 to that map's maximum), the unit's centre marked.</summary>
    public static Figure ReceptiveField(int height, int width, IReadOnlyList<(string Title, double[] Values)> maps,
        (double Y, double X) unitCenter, string title, int scale = 8)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        if (maps.Count == 0) throw new ArgumentException("maps: expected at least one map.", nameof(maps));
        foreach (var (name, values) in maps)
            if (values.Length != height * width)
                throw new ArgumentException($"maps: '{name}' has {values.Length} values, expected {height}·{width} = {height * width}.", nameof(maps));
        var figure = new Figure(title, 1, maps.Count, width * scale + HorizontalMargin + ColorBarWidth, height * scale + VerticalMargin);
        for (int m = 0; m < maps.Count; m++)
        {
            var plot = figure[0, m];
            var values = maps[m].Values;
            double max = values.Where(double.IsFinite).DefaultIfEmpty(0).Max();
            var heatmap = ImagePanel.Values(plot, height, width, values, PixelGrid.Centred, new ScottPlot.Colormaps.Inferno());
            heatmap.ManualRange = new ScottPlot.Range(0, max > 0 ? max : 1);
            ImagePanel.ColorBar(plot, heatmap, "|∂out / ∂input|");
            ImagePanel.Title(plot, maps[m].Title);
            var unit = plot.Add.Marker(unitCenter.X, unitCenter.Y, MarkerShape.OpenCircle, 16, UnitColor);
            unit.MarkerLineWidth = 2.5f;
        }
        figure.Legend.Add(new LegendItem
        {
            LabelText = "output unit (centre of its regular window); each map on its own colour scale",
            MarkerStyle = new MarkerStyle(MarkerShape.OpenCircle, 12, UnitColor) { LineWidth = 2.5f },
        });
        return figure;
    }

    private static bool Inside(GrayImage image, (double Y, double X) p) =>
        p.Y >= -0.5 && p.Y < image.Height - 0.5 && p.X >= -0.5 && p.X < image.Width - 0.5;
}

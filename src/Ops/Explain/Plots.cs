using System.Globalization;

namespace DeformEngine.Explain;

/// <summary>The explainer's pictures, as <see cref="Canvas"/>es ready for <see cref="Canvas.SavePng"/>:
/// sampling locations through stacked deformable layers (regular grid next to deformed points, as
/// in the DCN papers), the offset field as arrows, and the effective receptive field as a heat map.
/// Input pixels are drawn as scale×scale blocks; a sampling position p sits at the centre of pixel p
/// when p is an integer. Deterministic: the same data gives the same bytes.</summary>
public static class Plots
{
    private const int Margin = 30, Gap = 22, TitleHeight = 16, TickLength = 3;
    private static readonly Rgb Ink = new(30, 30, 30);
    private static readonly Rgb UnitColor = Rgb.Cyan;
    private static readonly Rgb[] LevelColors = [Rgb.Green, Rgb.Red, Rgb.Orange, Rgb.Blue];
    private static readonly double[] LevelRadii = [4.5, 2.6, 1.8, 1.4];

    /// <summary>(1) For each output unit (y, x) of the top layer, the positions its sampling points
    /// take in the image, followed down through the stack as <see cref="SamplingTrace.Follow"/> does
    /// (each sample is traced to the nearest unit of the layer below, whose own samples are then
    /// drawn). One row per unit: regular grid (all offsets 0) on the left, deformable on the right.</summary>
    /// <param name="image">The bottom layer's input, drawn in gray.</param>
    /// <param name="layers">Bottom (reads the image) first; steps without samples
    /// (<see cref="SamplingLayer.Window"/>, <see cref="SamplingLayer.Pooling"/>) may sit between them
    /// and below the first.</param>
    /// <param name="units">Output units (y, x) of the top layer, one row each.</param>
    /// <param name="title">First line of the picture.</param>
    /// <param name="scale">Screen pixels per image pixel.</param>
    public static Canvas SamplingLocations(GrayImage image, IReadOnlyList<SamplingLayer> layers,
        IReadOnlyList<(int Y, int X)> units, string title, int scale = 8)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(units);
        if (layers.Count == 0) throw new ArgumentException("layers: expected at least one layer.", nameof(layers));
        if (units.Count == 0) throw new ArgumentException("units: expected at least one output unit.", nameof(units));
        int panelW = image.Width * scale, panelH = image.Height * scale;
        var drawn = layers.Where(l => l.DrawsSamples).ToList();
        if (drawn.Count == 0) throw new ArgumentException("layers: expected at least one layer with samples (not only pooling).", nameof(layers));
        int legendHeight = 14 * (drawn.Count + 1) + 6;
        int width = Math.Max(2 * (Margin + panelW) + Gap + 8, Canvas.TextWidth(title) + 8);
        int rowHeight = TitleHeight + panelH + 22;
        var canvas = new Canvas(width, TitleHeight + 6 + units.Count * rowHeight + legendHeight, Rgb.White);
        canvas.Text(4, 4, title, Ink);

        for (int row = 0; row < units.Count; row++)
        {
            int top = TitleHeight + 6 + row * rowHeight + TitleHeight;
            for (int column = 0; column < 2; column++)
            {
                bool deformed = column == 1;
                var panel = new Panel(Margin + column * (Margin + panelW + Gap), top, scale, image.Height, image.Width);
                var stack = deformed ? layers : layers.Select(l => l.Regular()).ToList();
                DrawImage(canvas, panel, image, 25, 215);
                DrawAxes(canvas, panel);
                var (uy, ux) = units[row];
                canvas.Text(panel.X, top - 11,
                    $"{(deformed ? "deformable" : "regular")}: unit (y={uy}, x={ux})", Ink);
                var trace = SamplingTrace.Follow(stack, uy, ux);
                for (int level = trace.Levels.Count - 1; level >= 0; level--)
                {
                    var color = LevelColors[Math.Min(level, LevelColors.Length - 1)];
                    double radius = LevelRadii[Math.Min(level, LevelRadii.Length - 1)];
                    foreach (var sample in trace.Levels[level])
                    {
                        var (sx, sy) = panel.ToScreen(sample.ImageY, sample.ImageX);
                        if (!panel.Contains(sx, sy)) continue;
                        if (level == 0) canvas.Dot(sx, sy, radius + 1.2, Ink);
                        canvas.Dot(sx, sy, radius, color);
                    }
                }
                var (ucx, ucy) = panel.ToScreen(trace.UnitCenter.Y, trace.UnitCenter.X);
                canvas.StrokeRect((int)Math.Round(ucx - scale * 0.75), (int)Math.Round(ucy - scale * 0.75),
                    (int)Math.Round(scale * 1.5), (int)Math.Round(scale * 1.5), UnitColor, 2);
            }
        }

        int legendTop = canvas.Height - legendHeight + 4;
        LegendSquare(canvas, 8, legendTop, "output unit of the top layer (image coordinates of its centre)");
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
            LegendDot(canvas, 8, legendTop + 14 * (level + 1), LevelColors[Math.Min(level, LevelColors.Length - 1)],
                $"samples of layer {drawn.Count - level} ({(level == 0 ? "" : "up to ")}{counts[level]} points)");
        return canvas;
    }

    /// <summary>(2) The offset field of one layer, one panel per kernel point (i, j): an arrow from
    /// the regular grid position p0 + p_k to the deformed sample p0 + p_k + Δp_k, at every
    /// <paramref name="step"/>-th output unit, drawn at true scale over the layer's input.</summary>
    public static Canvas OffsetField(GrayImage image, SamplingLayer layer, string title, int step = 3, int scale = 6)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(step);
        var cp = layer.Geometry.Conv;
        var regular = layer.Regular();
        int panelW = image.Width * scale, panelH = image.Height * scale;
        int cellW = Margin + panelW + 10, cellH = TitleHeight + panelH + 22;
        var canvas = new Canvas(Math.Max(cp.KernelW * cellW + 8, Canvas.TextWidth(title) + 8),
            TitleHeight + 6 + cp.KernelH * cellH + 20, Rgb.White);
        canvas.Text(4, 4, title, Ink);
        for (int i = 0; i < cp.KernelH; i++)
            for (int j = 0; j < cp.KernelW; j++)
            {
                var panel = new Panel(Margin + j * cellW, TitleHeight + 6 + i * cellH + TitleHeight, scale, image.Height, image.Width);
                DrawImage(canvas, panel, image, 70, 190);
                DrawAxes(canvas, panel);
                canvas.Text(panel.X, panel.Y - 11, $"kernel point (i={i}, j={j})", Ink);
                int k = i * cp.KernelW + j;
                for (int y = step / 2; y < cp.OutH; y += step)
                    for (int x = step / 2; x < cp.OutW; x += step)
                    {
                        var (sy, sx) = regular.Positions(y, x)[k];
                        var (ey, ex) = layer.Positions(y, x)[k];
                        var (ax, ay) = panel.ToScreen(sy, sx);
                        var (bx, by) = panel.ToScreen(ey, ex);
                        if (!panel.Contains(ax, ay)) continue;
                        canvas.Dot(ax, ay, 1.5, Rgb.Blue);
                        canvas.Arrow(ax, ay, bx, by, Rgb.Red, headLength: 4, thickness: 1);
                    }
            }
        int legendTop = canvas.Height - 16;
        LegendDot(canvas, 8, legendTop, Rgb.Blue, "regular grid point");
        canvas.Line(150, legendTop + 3, 170, legendTop + 3, Rgb.Red);
        canvas.Text(176, legendTop, $"offset (true scale: 1 px = {scale} screen px)", Ink);
        return canvas;
    }

    /// <summary>(3) Effective receptive fields: each map (H·W values, e.g. Σ_c |∂out[unit]/∂input[c]|)
    /// as a heat map with its own colour bar (0 to that map's maximum), the unit's centre marked.</summary>
    public static Canvas ReceptiveField(int height, int width, IReadOnlyList<(string Title, double[] Values)> maps,
        (double Y, double X) unitCenter, string title, int scale = 8)
    {
        ArgumentNullException.ThrowIfNull(maps);
        if (maps.Count == 0) throw new ArgumentException("maps: expected at least one map.", nameof(maps));
        foreach (var (name, values) in maps)
            if (values.Length != height * width)
                throw new ArgumentException($"maps: '{name}' has {values.Length} values, expected {height}·{width} = {height * width}.", nameof(maps));
        int panelW = width * scale, panelH = height * scale;
        const int barGap = 8, barWidth = 14, barLabels = 44;
        int cellW = Margin + panelW + barGap + barWidth + barLabels;
        int top = TitleHeight * 2 + 6;
        var canvas = new Canvas(Math.Max(maps.Count * cellW + 8, Canvas.TextWidth(title) + 8), top + panelH + 36, Rgb.White);
        canvas.Text(4, 4, title, Ink);
        for (int m = 0; m < maps.Count; m++)
        {
            var panel = new Panel(Margin + m * cellW, top, scale, height, width);
            var values = maps[m].Values;
            double max = values.Where(double.IsFinite).DefaultIfEmpty(0).Max();
            double range = max > 0 ? max : 1;
            canvas.Raster(panel.X, panel.Y, height, width, scale, (r, c) => Rgb.Heat(values[r * width + c] / range));
            DrawAxes(canvas, panel);
            canvas.Text(panel.X, panel.Y - 11, maps[m].Title, Ink);
            var (ux, uy) = panel.ToScreen(unitCenter.Y, unitCenter.X);
            canvas.Ring(ux, uy, scale * 0.9, UnitColor, 2);
            // Colour bar: 0 at the bottom, this map's maximum at the top.
            int barX = panel.X + panelW + barGap;
            for (int y = 0; y < panelH; y++)
                canvas.FillRect(barX, top + y, barWidth, 1, Rgb.Heat(1 - y / (double)(panelH - 1)));
            canvas.StrokeRect(barX, top, barWidth, panelH, Ink);
            foreach (double fraction in new[] { 0, 0.25, 0.5, 0.75, 1.0 })
            {
                int y = top + (int)Math.Round((1 - fraction) * (panelH - 1));
                canvas.Line(barX + barWidth, y, barX + barWidth + TickLength, y, Ink);
                canvas.Text(barX + barWidth + 6, y - 3, Format(fraction * max), Ink);
            }
        }
        int legendY = canvas.Height - 12;
        canvas.Ring(Margin + 4, legendY, 4, UnitColor, 2);
        canvas.Text(Margin + 12, legendY - 3, "output unit (centre of its regular window); colour: |gradient|, each map on its own scale", Ink);
        return canvas;
    }

    private static void DrawImage(Canvas canvas, Panel panel, GrayImage image, int dark, int light)
    {
        double low = image.Pixels.Min(), high = image.Pixels.Max();
        double range = high > low ? high - low : 1;
        canvas.Raster(panel.X, panel.Y, image.Height, image.Width, panel.Scale, (r, c) =>
        {
            byte v = (byte)Math.Round(dark + (light - dark) * (image[r, c] - low) / range);
            return new Rgb(v, v, v);
        });
    }

    /// <summary>A frame, ticks every few pixels on the left and bottom with their pixel indices,
    /// and the axis names.</summary>
    private static void DrawAxes(Canvas canvas, Panel panel)
    {
        canvas.StrokeRect(panel.X - 1, panel.Y - 1, panel.Width * panel.Scale + 2, panel.Height * panel.Scale + 2, Ink);
        int step = new[] { 1, 2, 5, 10, 20, 50, 100, 200 }.First(s => s * panel.Scale >= 28);
        for (int v = 0; v < Math.Max(panel.Width, panel.Height); v += step)
        {
            if (v < panel.Width)
            {
                var (sx, _) = panel.ToScreen(0, v);
                int bottom = panel.Y + panel.Height * panel.Scale + 1;
                canvas.Line(sx, bottom, sx, bottom + TickLength, Ink);
                string label = v.ToString(CultureInfo.InvariantCulture);
                canvas.Text((int)Math.Round(sx) - Canvas.TextWidth(label) / 2, bottom + TickLength + 2, label, Ink);
            }
            if (v < panel.Height)
            {
                var (_, sy) = panel.ToScreen(v, 0);
                canvas.Line(panel.X - 1 - TickLength, sy, panel.X - 1, sy, Ink);
                string label = v.ToString(CultureInfo.InvariantCulture);
                canvas.Text(panel.X - TickLength - 3 - Canvas.TextWidth(label), (int)Math.Round(sy) - 3, label, Ink);
            }
        }
        int right = panel.X + panel.Width * panel.Scale;
        canvas.Text(right - Canvas.TextWidth("x"), panel.Y + panel.Height * panel.Scale + TickLength + 3, "x", Rgb.Gray);
        canvas.Text(panel.X - Canvas.TextWidth("y") - 22, panel.Y, "y", Rgb.Gray);
    }

    private static void LegendDot(Canvas canvas, int x, int y, Rgb color, string label)
    {
        canvas.Dot(x + 4, y + 3, 4.2, Ink);
        canvas.Dot(x + 4, y + 3, 3, color);
        canvas.Text(x + 12, y, label, Ink);
    }

    private static void LegendSquare(Canvas canvas, int x, int y, string label)
    {
        canvas.StrokeRect(x, y - 1, 9, 9, UnitColor, 2);
        canvas.Text(x + 12, y, label, Ink);
    }

    private static string Format(double value) => value.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>Where an H×W image sits on the canvas and at what scale.</summary>
    private sealed record Panel(int X, int Y, int Scale, int Height, int Width)
    {
        /// <summary>Screen (x, y) of image position (py, px); pixel centres are at integers.</summary>
        public (double X, double Y) ToScreen(double py, double px) => (X + (px + 0.5) * Scale, Y + (py + 0.5) * Scale);

        public bool Contains(double sx, double sy) =>
            sx >= X && sx < X + Width * Scale && sy >= Y && sy < Y + Height * Scale;
    }
}

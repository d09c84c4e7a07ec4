using DeformEngine;
using DeformEngine.Explain;
using DeformEngine.NN;

namespace GradientFlow;

/// <summary><c>--attention</c>: one query of multi-scale deformable attention taken apart. The image is
/// pooled into a three-level pyramid (28², 14², 7²), each pixel becomes a 16-wide feature (a fixed random
/// projection of its intensity and position), and an encoder-style <see cref="MultiScaleDeformableAttention{T}"/>
/// (mmcv's init, 4 heads, 4 points per level, with its offset and attention layers perturbed as if partly
/// trained) attends from every pixel of every level to all levels. For one query and one output channel it
/// prints every sampling point over the levels with ∂out/∂(location) from the corner terms, the engine's
/// backward and central differences; the corner terms of the strongest point; and the index-only ablation.</summary>
internal static class AttentionReport
{
    private const int Features = 16, Heads = 4, Points = 4;
    private static readonly (int H, int W)[] Shapes = [(28, 28), (14, 14), (7, 7)];
    private const string Rule = "------------------------------------------------------------------------------------------------------";

    public static int Run(Tensor<double> image, string imageName, (int Y, int X)? query, long seed)
    {
        var starts = new int[Shapes.Length];
        for (int l = 1; l < Shapes.Length; l++) starts[l] = starts[l - 1] + Shapes[l - 1].H * Shapes[l - 1].W;
        var features = PyramidFeatures(image, seed);
        var module = new MultiScaleDeformableAttention<double>(Features, Heads, Shapes.Length, Points, batchFirst: true,
            random: new SeededRandom(seed));
        Perturb(module, seed);
        module.Eval();
        using (Autograd.NoGrad()) module.Forward(features, ReferencePoints(), Shapes, starts);
        var call = new AttentionCall<double>(module.LastValue!, Shapes, starts, module.LastSamplingLocations!, module.LastAttentionWeights!);

        var (y, x) = query ?? (14, 14);
        if ((uint)y >= 28 || (uint)x >= 28)
        {
            Console.Error.WriteLine($"--query: expected a pixel of the 28×28 image, got ({y}, {x}).");
            return 2;
        }
        var unit = StrongestUnit(call, y * 28 + x);
        var explanation = AttentionExplainer.Explain(call, unit);
        var agreement = AttentionExplainer.CompareWithEngine(call, explanation);
        var (_, engineGrad, engineWeightGrad) = AttentionExplainer.EngineGradients(call, unit);
        var numeric = AttentionExplainer.FiniteDifferences(call, unit);
        var ablation = AttentionPathAblation.Run(call, unit);

        Console.WriteLine($"input: {imageName}; multi-scale deformable attention, levels {string.Join(", ", Shapes.Select(s => $"{s.H}x{s.W}"))}, " +
                          $"{Heads} heads x {Features / Heads} channels, {Points} points per level");
        Console.WriteLine($"query: pixel ({y}, {x}) of level 0, reference point ({(x + 0.5) / 28:F4}, {(y + 0.5) / 28:F4}); " +
                          $"output element {unit} = {explanation.Output:F6}");
        Console.WriteLine();
        AllPoints(explanation, engineGrad, engineWeightGrad, numeric);
        var strongest = explanation.Points.Where(p => p.Inside).MaxBy(p => Math.Abs(p.GradX) + Math.Abs(p.GradY)) ?? explanation.Points[0];
        CornerTable(strongest);
        Console.WriteLine("Index-only ablation (coefficients from a detached location: only ⌊·⌋ and the gather remain)");
        Console.WriteLine(Rule);
        Console.WriteLine($"{"level",-6}{"point",-6}{"real ∂/∂loc_x",16}{"real ∂/∂loc_y",16}{"index-only x",16}{"index-only y",16}");
        foreach (var row in ablation.Rows)
            Console.WriteLine($"{row.Level,-6}{row.Point,-6}{row.RealDx,16:F8}{row.RealDy,16:F8}{row.IndexOnlyDx,16:F8}{row.IndexOnlyDy,16:F8}");
        Console.WriteLine(Rule);
        Console.WriteLine($"same output on both graphs: {ablation.RealOutput:F10} vs {ablation.IndexOnlyOutput:F10}; " +
                          $"index-only gradient exactly 0 everywhere: {ablation.IndexOnlyGradLocations.ToArray().All(v => v == 0)}");
        Console.WriteLine($"max |corner sums − engine backward|: locations {agreement.LocationError:0.0E+00}, " +
                          $"attention weights {agreement.AttentionWeightError:0.0E+00}, output {agreement.OutputError:0.0E+00}");
        return agreement.MaxError <= 1e-9 ? 0 : 1;
    }

    /// <summary>[1, 28² + 14² + 7², 16]: per pixel of each level (x, y, intensity, intensity², 1) through a
    /// fixed random 5 → 16 map.</summary>
    private static Tensor<double> PyramidFeatures(Tensor<double> image, long seed)
    {
        var projection = Tensor<double>.Randn(seed + 1, 5, Features).ToArray();
        var rows = new List<double>();
        foreach (var (h, w) in Shapes)
        {
            var level = h == 28 ? image : Functional.AdaptiveAvgPool2d(image, (h, w));
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    double v = level[0, 0, y, x];
                    double[] raw = [(x + 0.5) / w, (y + 0.5) / h, v, v * v, 1];
                    for (int f = 0; f < Features; f++) rows.Add(Enumerable.Range(0, 5).Sum(i => raw[i] * projection[i * Features + f]));
                }
        }
        return Tensor<double>.FromArray(rows.ToArray(), 1, rows.Count / Features, Features);
    }

    /// <summary>Each query's own pixel centre, the same normalised point on every level (Deformable DETR's encoder).</summary>
    private static Tensor<double> ReferencePoints()
    {
        var data = new List<double>();
        foreach (var (h, w) in Shapes)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int l = 0; l < Shapes.Length; l++)
                    {
                        data.Add((x + 0.5) / w);
                        data.Add((y + 0.5) / h);
                    }
        return Tensor<double>.FromArray(data.ToArray(), 1, data.Count / (2 * Shapes.Length), Shapes.Length, 2);
    }

    /// <summary>mmcv's init makes every offset a whole number of pixels (a kink of the bilinear coefficients)
    /// and every attention weight equal; small random weights make both depend on the query, as training would.</summary>
    private static void Perturb(MultiScaleDeformableAttention<double> module, long seed)
    {
        var random = new SeededRandom(seed + 2);
        foreach (var (layer, scale) in new[] { (module.SamplingOffsets, 0.6), (module.AttentionWeights, 0.5) })
        {
            var weight = layer.Weight.AsSpan();
            for (int i = 0; i < weight.Length; i++) weight[i] = scale * random.NextNormal();
        }
    }

    /// <summary>The head and channel of query <paramref name="query"/> whose strongest sampling point has the
    /// largest location gradient; heads with a point within 0.01 of a kink are passed over (central
    /// differences need room).</summary>
    private static AttentionUnit StrongestUnit(AttentionCall<double> call, int query)
    {
        AttentionUnit best = new(0, query, 0, 0);
        double bestNorm = -1;
        for (int head = 0; head < Heads; head++)
            for (int channel = 0; channel < Features / Heads; channel++)
            {
                var e = AttentionExplainer.Explain(call, new AttentionUnit(0, query, head, channel));
                if (e.Points.Any(p => p.Inside && (Near(p.Lx) || Near(p.Ly)))) continue;
                double norm = e.Points.Max(p => Math.Abs(p.GradX) + Math.Abs(p.GradY));
                if (norm > bestNorm) (best, bestNorm) = (e.Unit, norm);
            }
        return best;
        static bool Near(double fraction) => fraction < 0.01 || fraction > 0.99;
    }

    private static void AllPoints(AttentionExplanation e, Tensor<double> engineGrad, Tensor<double> engineWeightGrad,
        IReadOnlyList<AttentionFiniteDifference> numeric)
    {
        var u = e.Unit;
        Console.WriteLine($"All {e.Points.Count} sampling points of head {u.Head}: location, pixel, attention weight a, and ∂out/∂loc " +
                          "from the corner terms, the engine's backward and central differences (eps 1e-6)");
        Console.WriteLine(Rule);
        Console.WriteLine($"{"lvl",-4}{"pt",-3}{"loc (x, y)",-18}{"pixel (x, y)",-18}{"a",7}{"∂out/∂loc_x",13}{"engine",13}{"fin. diff",13}" +
                          $"{"∂out/∂loc_y",13}{"engine",13}{"fin. diff",13}{"∂out/∂a",11}");
        double worstFd = 0;
        for (int i = 0; i < e.Points.Count; i++)
        {
            var p = e.Points[i];
            var fd = numeric[i];
            double engineX = engineGrad[u.N, u.Query, u.Head, p.Level, p.Point, 0], engineY = engineGrad[u.N, u.Query, u.Head, p.Level, p.Point, 1];
            worstFd = Math.Max(worstFd, Math.Max(Math.Abs(p.GradX - fd.X), Math.Abs(p.GradY - fd.Y)));
            Console.WriteLine($"{p.Level,-4}{p.Point,-3}{$"({p.LocationX:F3}, {p.LocationY:F3})",-18}{$"({p.PixelX:F2}, {p.PixelY:F2}){(p.Inside ? "" : "*")}",-18}" +
                              $"{p.AttentionWeight,7:F3}{p.GradX,13:F6}{engineX,13:F6}{fd.X,13:F6}{p.GradY,13:F6}{engineY,13:F6}{fd.Y,13:F6}" +
                              $"{engineWeightGrad[u.N, u.Query, u.Head, p.Level, p.Point],11:F5}");
        }
        Console.WriteLine(Rule);
        Console.WriteLine($"* no corner in the map: reads 0, no gradient. max |corner sums − central differences|: {worstFd:0.0E+00}");
        Console.WriteLine();
    }

    private static void CornerTable(AttentionPointExplanation p)
    {
        Console.WriteLine($"Strongest point: level {p.Level} ({p.Height}x{p.Width}), point {p.Point}: loc = ({p.LocationX:F4}, {p.LocationY:F4}), " +
                          $"pixel = ({p.PixelX:F4}, {p.PixelY:F4}), lx = {p.Lx:F4}, ly = {p.Ly:F4}, a = {p.AttentionWeight:F4}");
        Console.WriteLine(Rule);
        Console.WriteLine($"{"corner",-7}{"(row, col)",-12}{"v_q",11}{"g_q",10}{"∂g_q/∂loc_x",13}{"∂g_q/∂loc_y",13}{"a·∂g_q/∂loc_x·v_q",20}{"a·∂g_q/∂loc_y·v_q",20}");
        foreach (var c in p.Corners)
            Console.WriteLine($"{c.Corner.ToString().ToLowerInvariant(),-7}{$"({c.Row}, {c.Column}){(c.InMap ? "" : "*")}",-12}{c.Value,11:F6}" +
                              $"{c.Coefficient,10:F6}{c.CoefficientDx,13:F4}{c.CoefficientDy,13:F4}{c.ContributionDx,20:F10}{c.ContributionDy,20:F10}");
        Console.WriteLine(Rule);
        Console.WriteLine($"sum of the four corner terms = ∂out/∂loc: ({p.GradX:F10}, {p.GradY:F10}); ∂out/∂a = Σ_q g_q·v_q = {p.Sample:F10}");
        Console.WriteLine("∂g_q/∂loc = (W_l, H_l) · ∂g_q/∂pixel: the location is normalised, the pixel coordinate is loc·size − 0.5.");
        if (p.Corners.Any(c => !c.InMap)) Console.WriteLine("* corner outside the map: reads 0 (zero padding).");
        Console.WriteLine();
    }
}

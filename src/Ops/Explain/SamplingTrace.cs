namespace DeformEngine.Explain;

/// <summary>One sampling point of a deformable layer in a <see cref="SamplingTrace"/>.</summary>
/// <param name="Layer">Index in the stack of the layer that samples here.</param>
/// <param name="Unit">The output unit (y, x) of that layer this point belongs to.</param>
/// <param name="KernelPoint">i·kw + j.</param>
/// <param name="Y">p_y = y·stride − pad + i·dilation + Δy, in the layer's input.</param>
/// <param name="X">p_x, in the layer's input.</param>
/// <param name="ImageY">p_y in image coordinates: the centre of the regular window that the layers
/// below place at p (pixel centres at integers).</param>
/// <param name="ImageX">p_x in image coordinates.</param>
/// <param name="Parent">Index, in the level above, of the sample this one was followed from; −1 on
/// the top level.</param>
public readonly record struct TracedSample(
    int Layer, (int Y, int X) Unit, int KernelPoint, double Y, double X, double ImageY, double ImageX, int Parent);

/// <summary>Where one output unit of the top layer of a stack looks, layer by layer, in image
/// coordinates. Level 0 holds the top layer's samples of the unit. Each sample that reads
/// something (inside (−1, H) × (−1, W) of its layer's input) is followed to the unit of the layer
/// below that sits nearest to it — the cell of the lower layer's output it rounds to; a step
/// without samples passes a unit on (<see cref="SamplingLayer.FollowedCells"/>: a pooling to every
/// cell of its window, a plain convolution to the central one) — and the samples of the units it
/// reaches make the next level. Every position is mapped to the image through the regular windows
/// of the layers below it (<see cref="ToImage"/>).</summary>
/// <param name="Unit">The top layer's output unit (y, x).</param>
/// <param name="UnitCenter">Its centre in image coordinates.</param>
/// <param name="Levels">Level 0 = the top drawn layer, then one level per drawn layer below.</param>
public sealed record SamplingTrace((int Y, int X) Unit, (double Y, double X) UnitCenter, IReadOnlyList<IReadOnlyList<TracedSample>> Levels)
{
    /// <summary>Traces output unit (y, x) of the top layer of <paramref name="layers"/> (bottom, the
    /// one that reads the image, first) down to the image.</summary>
    public static SamplingTrace Follow(IReadOnlyList<SamplingLayer> layers, int y, int x)
    {
        RequireStack(layers);
        var top = layers[^1].Geometry.Conv;
        if ((uint)y >= (uint)top.OutH || (uint)x >= (uint)top.OutW)
            throw new ArgumentOutOfRangeException(nameof(y), (y, x),
                $"y, x: expected an output unit of the top layer, inside {top.OutH}×{top.OutW}, got ({y}, {x}).");
        var levels = new List<IReadOnlyList<TracedSample>>();
        // The units of layers[layer]'s output still to expand, each with its parent in the last level.
        var frontier = new List<((int Y, int X) Unit, int Parent)> { ((y, x), -1) };
        for (int layer = layers.Count - 1; layer >= 0 && frontier.Count > 0; layer--)
        {
            var source = layers[layer];
            if (!source.DrawsSamples)
            {
                frontier = frontier.SelectMany(f => source.FollowedCells(f.Unit.Y, f.Unit.X).Select(cell => (cell, f.Parent))).ToList();
                continue;
            }
            var level = new List<TracedSample>();
            foreach (var (unit, parent) in frontier)
            {
                var positions = source.Positions(unit.Y, unit.X);
                for (int k = 0; k < positions.Length; k++)
                {
                    var (py, px) = positions[k];
                    var (iy, ix) = ToImage(layers, layer, py, px);
                    level.Add(new TracedSample(layer, unit, k, py, px, iy, ix, parent));
                }
            }
            levels.Add(level);
            var cp = source.Geometry.Conv;
            frontier = [];
            for (int s = 0; s < level.Count; s++)
                if (Reads(level[s].Y, cp.Height) && Reads(level[s].X, cp.Width))
                    frontier.Add(((NearestCell(level[s].Y, cp.Height), NearestCell(level[s].X, cp.Width)), s));
        }
        return new SamplingTrace((y, x), ToImage(layers, layers.Count, y, x), levels);
    }

    /// <summary>Maps position (y, x) in the input of layer <paramref name="layer"/> (the output of the
    /// layer below; <paramref name="layer"/> = the layer count for the top layer's output) to image
    /// coordinates: through each layer below, position q of its output goes to the centre of its
    /// regular window, q·stride − pad + dilation·(k − 1)/2.</summary>
    public static (double Y, double X) ToImage(IReadOnlyList<SamplingLayer> layers, int layer, double y, double x)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)layer, (uint)layers.Count, nameof(layer));
        for (int below = layer - 1; below >= 0; below--) (y, x) = layers[below].OutputToInput(y, x);
        return (y, x);
    }

    /// <summary>The top layer's output unit whose centre in image coordinates is nearest to image
    /// position (y, x) (the first in row-major order on a tie).</summary>
    public static (int Y, int X) UnitNearest(IReadOnlyList<SamplingLayer> layers, double y, double x)
    {
        RequireStack(layers);
        var top = layers[^1].Geometry.Conv;
        (int, int) best = (0, 0);
        double bestDistance = double.PositiveInfinity;
        for (int uy = 0; uy < top.OutH; uy++)
            for (int ux = 0; ux < top.OutW; ux++)
            {
                var (cy, cx) = ToImage(layers, layers.Count, uy, ux);
                double distance = (cy - y) * (cy - y) + (cx - x) * (cx - x);
                if (distance < bestDistance) (best, bestDistance) = ((uy, ux), distance);
            }
        return best;
    }

    /// <summary>Throws unless each layer reads what the layer below it writes.</summary>
    private static void RequireStack(IReadOnlyList<SamplingLayer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new ArgumentException("layers: expected at least one layer.", nameof(layers));
        for (int l = 1; l < layers.Count; l++)
        {
            var below = layers[l - 1].Geometry.Conv;
            var above = layers[l].Geometry.Conv;
            if (above.Height != below.OutH || above.Width != below.OutW)
                throw new ArgumentException(
                    $"layers: layer {l} reads {above.Height}×{above.Width}, but layer {l - 1} below it writes {below.OutH}×{below.OutW}.",
                    nameof(layers));
        }
    }

    // The bilinear border rule: a sample outside (−1, size) reads nothing, so it has nothing to follow.
    private static bool Reads(double position, int size) => position > -1 && position < size;

    private static int NearestCell(double position, int size) =>
        Math.Clamp((int)Math.Round(position, MidpointRounding.AwayFromZero), 0, size - 1);
}

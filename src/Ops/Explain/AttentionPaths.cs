namespace DeformEngine.Explain;

/// <summary>Multi-scale deformable attention composed from small autograd operations — pixel position =
/// (2·loc − 1 + 1)·size/2 − 0.5, ⌊·⌋, a corner gather, the coefficients, a weighted sum over corners,
/// points and levels — so that the graph itself shows which path carries the location gradient. With
/// <see cref="OffsetPath.IndicesAndCoefficients"/> it equals <see cref="Functional.MultiScaleDeformableAttention{T}"/>
/// (forward and every gradient, up to summation order); with <see cref="OffsetPath.IndicesOnly"/> the
/// forward is identical and ∂L/∂locations is exactly 0. Slow: a teaching tool.</summary>
public static class AttentionPaths
{
    /// <summary>[N, queries, heads·D] as <see cref="Functional.MultiScaleDeformableAttention{T}"/>, built from small
    /// recorded operations; <paramref name="path"/> chooses which dependences on the locations the graph
    /// keeps.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together, or a sampling location is not
    /// finite.</exception>
    public static Tensor<T> Forward<T>(AttentionCall<T> call, OffsetPath path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var sizes = call.Params();
        foreach (var value in call.SamplingLocations.CpuData)
            if (!T.IsFinite(value))
                throw new ArgumentException(
                    "samplingLocations: the composed paths need finite locations (the engine reads 0 at non-finite ones; use Functional.MultiScaleDeformableAttention).",
                    nameof(call));
        int n = sizes.Batch, heads = sizes.Heads, channels = sizes.HeadChannels, queries = sizes.Queries, points = sizes.Points;
        Tensor<T>? sum = null;
        for (int l = 0; l < sizes.Levels; l++)
        {
            var (h, w) = sizes.SpatialShapes[l];
            // value rows of level l as an image of heads · D channels, grouped by head: [N, M·D, H, W].
            var image = call.Value.Slice(1, sizes.LevelStartIndex[l], h * w).Permute(0, 2, 3, 1).Reshape(n, heads * channels, h, w);
            // locations [N, Lq, M, P, 2] of (x, y) → [N, M, P, 2, Lq, 1] of (y, x), as pixel coordinates.
            var location = call.SamplingLocations.Slice(3, l, 1).Reshape(n, queries, heads, points, 2).Permute(0, 2, 3, 4, 1);
            var yx = Tensor<T>.Cat([location.Slice(3, 1, 1), location.Slice(3, 0, 1)], axis: 3);
            var halfSize = Tensor<T>.FromArray([T.CreateChecked(h) / T.CreateChecked(2), T.CreateChecked(w) / T.CreateChecked(2)], 1, 1, 1, 2, 1);
            var position = yx.MulScalar(T.CreateChecked(2)).AddScalar(-T.One).AddScalar(T.One).Mul(halfSize).AddScalar(T.CreateChecked(-0.5))
                .Reshape(n, heads, points, 2, queries, 1);
            var corner = PathOps.Floor(position);
            var fraction = path == OffsetPath.IndicesAndCoefficients
                ? position.Sub(corner)
                // NOTE: the ablation. Detaching here cuts loc → (ly, lx) → g_q; what is left of the
                // location's influence is ⌊·⌋ → gather, whose derivative is 0.
                : position.Detach().Sub(corner.Detach());
            var ly = fraction.Slice(3, 0, 1);
            var lx = fraction.Slice(3, 1, 1);
            var oneMinusLy = ly.Neg().AddScalar(T.One);
            var oneMinusLx = lx.Neg().AddScalar(T.One);
            var coefficients = Tensor<T>.Cat([oneMinusLy.Mul(oneMinusLx), oneMinusLy.Mul(lx), ly.Mul(oneMinusLx), ly.Mul(lx)], axis: 3)
                .Reshape(n, heads, points, 4, 1, queries, 1);
            // [N, M, P, 4, D, Lq, 1]: corners outside the map read 0, which is grid_sample's zero padding.
            var sample = PathOps.GatherCorners(image, corner).Mul(coefficients).Sum(3);
            var weights = call.AttentionWeights.Slice(3, l, 1).Reshape(n, queries, heads, points).Permute(0, 2, 3, 1)
                .Reshape(n, heads, points, 1, queries, 1);
            var level = sample.Mul(weights).Sum(2);
            sum = sum is null ? level : sum.Add(level);
        }
        return sum!.Reshape(n, heads, channels, queries).Permute(0, 3, 1, 2).Reshape(n, queries, heads * channels);
    }
}

/// <summary>∂out[unit]/∂loc of one sampling point along the real graph and along the index-only one.</summary>
public sealed record AttentionAblationRow(int Level, int Point, double RealDx, double RealDy, double IndexOnlyDx, double IndexOnlyDy);

/// <summary>The real computation next to its index-only ablation, for L = out[unit].</summary>
/// <param name="Unit">The output element whose gradient is taken.</param>
/// <param name="RealOutput">out[unit] from the composed graph with both paths.</param>
/// <param name="IndexOnlyOutput">out[unit] from the ablated graph: the same value, only the backward differs.</param>
/// <param name="RealGradLocations">∂out[unit]/∂samplingLocations, real graph (whole tensor).</param>
/// <param name="IndexOnlyGradLocations">∂out[unit]/∂samplingLocations, index-only graph: exactly 0.</param>
/// <param name="Rows">The unit's sampling points, per (level, point).</param>
public sealed record AttentionAblationResult<T>(AttentionUnit Unit, double RealOutput, double IndexOnlyOutput,
    Tensor<T> RealGradLocations, Tensor<T> IndexOnlyGradLocations, IReadOnlyList<AttentionAblationRow> Rows)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Runs <see cref="AttentionPaths"/> twice — with the coefficients' dependence on the location and
/// without it — and back-propagates a one-hot gradient at the unit through each. Cutting the coefficients
/// leaves ⌊·⌋ and the gather, and the location gradient is exactly 0: sampling locations get their gradient
/// through g_lt, g_rt, g_lb, g_rb, never through the indices.</summary>
public static class AttentionPathAblation
{
    /// <summary>out[unit] and ∂out[unit]/∂locations along the real graph and along the index-only one, with a row per
    /// sampling point of the unit.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together, or a sampling location is not
    /// finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unit"/> is not an element of the call's
    /// output.</exception>
    public static AttentionAblationResult<T> Run<T>(AttentionCall<T> call, AttentionUnit unit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var sizes = call.Params();
        call.RequireUnit(unit);
        var (realOutput, realGrad) = Backward(call, unit, OffsetPath.IndicesAndCoefficients);
        var (ablatedOutput, ablatedGrad) = Backward(call, unit, OffsetPath.IndicesOnly);
        var rows = new List<AttentionAblationRow>();
        for (int l = 0; l < sizes.Levels; l++)
            for (int p = 0; p < sizes.Points; p++)
            {
                double At(Tensor<T> grad, int axis) => double.CreateChecked(grad[unit.N, unit.Query, unit.Head, l, p, axis]);
                rows.Add(new AttentionAblationRow(l, p, At(realGrad, 0), At(realGrad, 1), At(ablatedGrad, 0), At(ablatedGrad, 1)));
            }
        return new AttentionAblationResult<T>(unit, realOutput, ablatedOutput, realGrad, ablatedGrad, rows);
    }

    private static (double Output, Tensor<T> GradLocations) Backward<T>(AttentionCall<T> call, AttentionUnit unit, OffsetPath path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var locations = call.SamplingLocations.Detach();
        locations.RequiresGrad = true;
        var leaves = call.With(call.Value.Detach(), locations, call.AttentionWeights.Detach());
        var output = AttentionPaths.Forward(leaves, path);
        output.Backward(call.OneHot(unit));
        // The index path still connects the locations to the output (through ⌊·⌋), so a gradient arrives:
        // the zeros that floor and the gather pass back.
        var grad = locations.Grad ?? throw new InvalidOperationException("The sampling locations were not reached by the backward.");
        int column = unit.Head * call.Params().HeadChannels + unit.Channel;
        return (double.CreateChecked(output[unit.N, unit.Query, column]), grad);
    }
}

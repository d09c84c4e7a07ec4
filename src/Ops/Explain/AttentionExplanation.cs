namespace DeformEngine.Explain;

/// <summary>One corner term of one attention sampling point, for L = one output element.</summary>
/// <param name="Corner">Which of the four corners.</param>
/// <param name="Row">Row of the corner in its level (may lie outside the map).</param>
/// <param name="Column">Column of the corner in its level.</param>
/// <param name="InMap">False for a corner outside the map: it reads 0.</param>
/// <param name="Value">v_q: value[n, start_l + row·W + column, head, channel] (0 outside).</param>
/// <param name="Coefficient">g_q, e.g. g_lt = (1 − ly)(1 − lx).</param>
/// <param name="CoefficientDx">∂g_q/∂loc_x = W_l · ∂g_q/∂x_pix, e.g. −W_l·(1 − ly) for lt.</param>
/// <param name="CoefficientDy">∂g_q/∂loc_y = H_l · ∂g_q/∂y_pix.</param>
/// <param name="ContributionDx">a · (∂g_q/∂loc_x) · v_q: this corner's share of ∂out/∂loc_x.</param>
/// <param name="ContributionDy">a · (∂g_q/∂loc_y) · v_q: this corner's share of ∂out/∂loc_y.</param>
public sealed record AttentionCornerTerm(
    Corner Corner, int Row, int Column, bool InMap, double Value, double Coefficient, double CoefficientDx, double CoefficientDy,
    double ContributionDx, double ContributionDy);

/// <summary>Everything about one sampling point of one query and head in one level.</summary>
/// <param name="Level">The feature level l.</param>
/// <param name="Point">The point p within the level.</param>
/// <param name="Height">H_l.</param>
/// <param name="Width">W_l.</param>
/// <param name="LocationX">loc_x ∈ [0, 1] (0 and 1 are the map's outer edges).</param>
/// <param name="LocationY">loc_y.</param>
/// <param name="PixelX">x_pix = loc_x·W_l − 0.5 (computed in grid_sample's steps).</param>
/// <param name="PixelY">y_pix = loc_y·H_l − 0.5.</param>
/// <param name="Inside">False when no corner is in the map or the location is not finite: the point reads
/// 0 and gets no gradient.</param>
/// <param name="Lx">lx = x_pix − ⌊x_pix⌋.</param>
/// <param name="Ly">ly = y_pix − ⌊y_pix⌋.</param>
/// <param name="AttentionWeight">a = attentionWeights[n, q, head, l, p].</param>
/// <param name="Corners">lt, rt, lb, rb (empty when not <paramref name="Inside"/>).</param>
/// <param name="Sample">Σ_q g_q · v_q: the bilinear sample of the unit's channel.</param>
/// <param name="GradX">∂out/∂loc_x = Σ_q ContributionDx.</param>
/// <param name="GradY">∂out/∂loc_y = Σ_q ContributionDy.</param>
public sealed record AttentionPointExplanation(
    int Level, int Point, int Height, int Width, double LocationX, double LocationY, double PixelX, double PixelY, bool Inside,
    double Lx, double Ly, double AttentionWeight, IReadOnlyList<AttentionCornerTerm> Corners, double Sample, double GradX, double GradY)
{
    /// <summary>∂out/∂a = Sample.</summary>
    public double GradAttention => Sample;

    /// <summary>This point's share of the output: a · Sample.</summary>
    public double OutputContribution => AttentionWeight * Sample;
}

/// <summary>One output element of multi-scale deformable attention taken apart into its sampling points
/// over the levels, their bilinear corners and the corner terms of ∂out/∂(sampling location).</summary>
/// <param name="Unit">The output element explained.</param>
/// <param name="Output">Σ_points a · Sample, computed here (compare with the engine).</param>
/// <param name="Points">One per (level, point), in that order.</param>
/// <param name="Sizes">The call's sizes, as the engine checked them.</param>
public sealed record AttentionExplanation(AttentionUnit Unit, double Output, IReadOnlyList<AttentionPointExplanation> Points,
    MultiScaleDeformableAttentionParams Sizes)
{
    /// <summary>The point <paramref name="point"/> of level <paramref name="level"/>.</summary>
    public AttentionPointExplanation Point(int level, int point) => Points.Single(p => p.Level == level && p.Point == point);

    /// <summary>∂out[unit]/∂samplingLocations laid out like the locations: the points' GradX/GradY at
    /// (n, query, head) and 0 everywhere else.</summary>
    public double[] LocationGradient()
    {
        var result = new double[Sizes.Batch * Sizes.Queries * Sizes.Heads * Sizes.Levels * Sizes.Points * 2];
        foreach (var p in Points)
        {
            int at = PointIndex(p) * 2;
            result[at] = p.GradX;
            result[at + 1] = p.GradY;
        }
        return result;
    }

    /// <summary>∂out[unit]/∂attentionWeights laid out like the weights.</summary>
    public double[] AttentionWeightGradient()
    {
        var result = new double[Sizes.Batch * Sizes.Queries * Sizes.Heads * Sizes.Levels * Sizes.Points];
        foreach (var p in Points) result[PointIndex(p)] = p.GradAttention;
        return result;
    }

    private int PointIndex(AttentionPointExplanation p) =>
        (((Unit.N * Sizes.Queries + Unit.Query) * Sizes.Heads + Unit.Head) * Sizes.Levels + p.Level) * Sizes.Points + p.Point;
}

/// <summary>How an attention explanation agrees with the engine's forward and backward (max absolute differences).</summary>
/// <param name="OutputError">|explanation.Output − engine out[unit]|.</param>
/// <param name="LocationError">max over the whole locations tensor of |explained − engine ∂out[unit]/∂loc|.</param>
/// <param name="AttentionWeightError">The same for the attention weights.</param>
public sealed record AttentionAgreement(double OutputError, double LocationError, double AttentionWeightError)
{
    /// <summary>The largest of the three errors.</summary>
    public double MaxError => Math.Max(OutputError, Math.Max(LocationError, AttentionWeightError));
}

/// <summary>Central differences of out[unit] with respect to one sampling point's loc_x, loc_y and a.</summary>
public sealed record AttentionFiniteDifference(int Level, int Point, double X, double Y, double Attention);

using DeformEngine.Kernels;

namespace DeformEngine.Explain;

/// <summary>Everything about one sampling point p of one DCNv3 / DCNv4 output unit (group g = channel / Cg).</summary>
/// <param name="Point">The point's index p among the group's points (kernel column-major, centre dropped with removeCenter).</param>
/// <param name="KernelColumn">Kernel column i.</param>
/// <param name="KernelRow">Kernel row j.</param>
/// <param name="Group">The group g whose offsets and mask this point uses.</param>
/// <param name="Dx">Δx as stored.</param>
/// <param name="Dy">Δy as stored.</param>
/// <param name="X">x = ox·sW − padW + hW + (i·dW − hW + Δx)·s, as the engine computes it.</param>
/// <param name="Y">y likewise.</param>
/// <param name="AnyCorner">False when no corner lies in the map (x ∉ [−1, W), y ∉ [−1, H), or not finite): the point
/// reads 0, has no corners and gets no gradient.</param>
/// <param name="Lx">lx = x − ⌊x⌋.</param>
/// <param name="Ly">ly = y − ⌊y⌋.</param>
/// <param name="Mask">m, applied as given.</param>
/// <param name="Corners">lt, rt, lb, rb (empty without <paramref name="AnyCorner"/>); their contributions are this corner's
/// share of ∂out/∂x and ∂out/∂y of the sampling location: m·(∂g_q/∂x)·v_q.</param>
/// <param name="Sample">Σ_q g_q·v_q, the bilinear sample of the unit's channel.</param>
/// <param name="GradX">∂out/∂x of the sampling location = Σ_q ContributionDx.</param>
/// <param name="GradY">∂out/∂y = Σ_q ContributionDy.</param>
/// <param name="GradDx">∂out/∂Δx = s·GradX (s = offsetScale).</param>
/// <param name="GradDy">∂out/∂Δy = s·GradY.</param>
/// <param name="GradMask">∂out/∂m = Sample.</param>
public sealed record Dcnv3PointExplanation(
    int Point, int KernelColumn, int KernelRow, int Group, double Dx, double Dy, double X, double Y, bool AnyCorner,
    double Lx, double Ly, double Mask, IReadOnlyList<CornerTerm> Corners, double Sample, double GradX, double GradY,
    double GradDx, double GradDy, double GradMask)
{
    /// <summary>This point's share of the unit's output: m·Sample.</summary>
    public double OutputContribution => Mask * Sample;
}

/// <summary>The output unit out[n, y, x, channel] of a DCNv3 or DCNv4 call taken apart into its sampling points, their
/// bilinear corners and the corner terms of ∂out/∂(sampling location).</summary>
/// <param name="Unit">The unit (O is the channel).</param>
/// <param name="Output">Σ_points m·Sample, computed here (compare with the engine).</param>
/// <param name="Points">The group's points in order.</param>
/// <param name="Geometry">The call's geometry, as the engine checked it.</param>
/// <param name="Packed">True for DCNv4 (offsets and masks in one offset_mask tensor).</param>
public sealed record Dcnv3Explanation(OutputUnit Unit, double Output, IReadOnlyList<Dcnv3PointExplanation> Points, Dcnv3Params Geometry,
    bool Packed)
{
    internal Dcnv3Fields Fields { get; init; }

    internal int OffsetLength { get; init; }

    internal int MaskLength { get; init; }

    /// <summary>∂out[unit]/∂Δ laid out like the offset tensor (DCNv3) or offset_mask (DCNv4, its Δ entries; 0 elsewhere):
    /// no other offset reaches this unit.</summary>
    public double[] OffsetGradient()
    {
        var result = new double[OffsetLength];
        int row = DcnvSampling<double>.Row(Geometry, Unit);
        foreach (var p in Points)
        {
            int at = Fields.OffsetX(row, p.Group, p.Point);
            result[at] = p.GradDx;
            result[at + 1] = p.GradDy;
        }
        return result;
    }

    /// <summary>∂out[unit]/∂m laid out like the mask tensor (DCNv3) or offset_mask (DCNv4, its mask entries; 0 elsewhere).</summary>
    public double[] MaskGradient()
    {
        var result = new double[MaskLength];
        int row = DcnvSampling<double>.Row(Geometry, Unit);
        foreach (var p in Points) result[Fields.Mask(row, p.Group, p.Point)] = p.GradMask;
        return result;
    }
}

/// <summary>Central differences of out[unit] with respect to one sampling point's Δx, Δy and m.</summary>
public sealed record Dcnv3FiniteDifference(int Point, int Group, double Dx, double Dy, double Mask);

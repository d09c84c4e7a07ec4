namespace DeformEngine.Explain;

/// <summary>The four corners of a bilinear sample, in the notation of the DCN write-ups:
/// lt = (⌊y⌋, ⌊x⌋), rt = lt + (0, 1), lb = lt + (1, 0), rb = lt + (1, 1).</summary>
public enum Corner
{
    /// <summary>Left top: (⌊y⌋, ⌊x⌋), weight g_lt = (1 − ly)(1 − lx).</summary>
    Lt,
    /// <summary>Right top: (⌊y⌋, ⌊x⌋ + 1), weight g_rt = (1 − ly)·lx.</summary>
    Rt,
    /// <summary>Left bottom: (⌊y⌋ + 1, ⌊x⌋), weight g_lb = ly·(1 − lx).</summary>
    Lb,
    /// <summary>Right bottom: (⌊y⌋ + 1, ⌊x⌋ + 1), weight g_rb = ly·lx.</summary>
    Rb,
}

/// <summary>One corner term of one sampling point, for L = one output unit.</summary>
/// <param name="Corner">Which of the four corners.</param>
/// <param name="Row">Input row of the corner (may lie outside the image).</param>
/// <param name="Column">Input column of the corner.</param>
/// <param name="InImage">False for a corner outside the image: it reads 0.</param>
/// <param name="Values">v_q for each channel in <see cref="SamplingPointExplanation.Channels"/>.</param>
/// <param name="WeightedValue">V_q = Σ_c weight[o, c, i, j] · v_q,c: what the unit sees of this corner.</param>
/// <param name="Coefficient">g_q, e.g. g_lt = (1 − ly)(1 − lx).</param>
/// <param name="CoefficientDy">∂g_q/∂p_y, e.g. ∂g_lt/∂p_y = −(1 − lx).</param>
/// <param name="CoefficientDx">∂g_q/∂p_x.</param>
/// <param name="ContributionDy">m · (∂g_q/∂p_y) · V_q: this corner's share of ∂out/∂Δy.</param>
/// <param name="ContributionDx">m · (∂g_q/∂p_x) · V_q: this corner's share of ∂out/∂Δx.</param>
public sealed record CornerTerm(
    Corner Corner, int Row, int Column, bool InImage, double[] Values, double WeightedValue,
    double Coefficient, double CoefficientDy, double CoefficientDx, double ContributionDy, double ContributionDx);

/// <summary>Everything about one sampling point p = p0 + p_k + Δp_k of one output unit.</summary>
/// <param name="KernelRow">Kernel row i.</param>
/// <param name="KernelColumn">Kernel column j.</param>
/// <param name="OffsetGroup">Offset group g whose Δp (and mask) this point uses.</param>
/// <param name="Channels">Input channels read through this point that reach the unit's output
/// channel (the offset group's channels within the output channel's convolution group).</param>
/// <param name="Weights">weight[o, c, i, j] for each of <paramref name="Channels"/>.</param>
/// <param name="Dy">Δy, read from offset channel 2(g·kh·kw + i·kw + j).</param>
/// <param name="Dx">Δx, read from the next channel.</param>
/// <param name="Y">p_y = y·stride − pad + i·dilation + Δy.</param>
/// <param name="X">p_x.</param>
/// <param name="Inside">False outside [−1, H) × [−1, W) or for a non-finite position: the point
/// reads 0, has no corners and gets no gradient. On the edges p_y = −1, p_x = −1 it reads 0 but has its
/// corners and torchvision's slope from the inside.</param>
/// <param name="Ly">ly = p_y − ⌊p_y⌋.</param>
/// <param name="Lx">lx = p_x − ⌊p_x⌋.</param>
/// <param name="Mask">m (1 without a mask).</param>
/// <param name="Corners">lt, rt, lb, rb (empty when not <paramref name="Inside"/>).</param>
/// <param name="Sample">Σ_q g_q · V_q: the weighted bilinear sample before the mask.</param>
/// <param name="GradDy">∂out/∂Δy = Σ_q ContributionDy.</param>
/// <param name="GradDx">∂out/∂Δx = Σ_q ContributionDx.</param>
/// <param name="GradMask">∂out/∂m = Sample (DCNv2); null without a mask.</param>
public sealed record SamplingPointExplanation(
    int KernelRow, int KernelColumn, int OffsetGroup, int[] Channels, double[] Weights,
    double Dy, double Dx, double Y, double X, bool Inside, double Ly, double Lx, double Mask,
    IReadOnlyList<CornerTerm> Corners, double Sample, double GradDy, double GradDx, double? GradMask)
{
    /// <summary>This point's share of the unit's output: m · Σ_q g_q · V_q.</summary>
    public double OutputContribution => Mask * Sample;
}

/// <summary>The output unit out[n, o, y, x] of a deformable convolution, taken apart into its
/// sampling points, their bilinear corners and the corner terms of ∂out/∂Δp.</summary>
/// <param name="Unit">The output unit explained.</param>
/// <param name="HasMask">Whether the call has a modulation mask (DCNv2).</param>
/// <param name="Bias">bias[o] (0 without a bias).</param>
/// <param name="Output">bias[o] + Σ_points OutputContribution, computed here (compare with the engine).</param>
/// <param name="Points">One per (offset group, kernel row, kernel column), in that order.</param>
/// <param name="Geometry">The call's shapes, as the engine checked them.</param>
public sealed record DeformConvExplanation(
    OutputUnit Unit, bool HasMask, double Bias, double Output, IReadOnlyList<SamplingPointExplanation> Points,
    DeformConv2dParams Geometry)
{
    /// <summary>The point of offset group <paramref name="group"/> and kernel point (i, j).</summary>
    public SamplingPointExplanation Point(int i, int j, int group = 0) =>
        Points.Single(p => p.KernelRow == i && p.KernelColumn == j && p.OffsetGroup == group);

    /// <summary>∂out[unit]/∂offset laid out like the offset tensor: the points' GradDy/GradDx at
    /// (n, ·, y, x) and 0 everywhere else (no other offset reaches this unit).</summary>
    public double[] OffsetGradient()
    {
        var cp = Geometry.Conv;
        int k = Geometry.KernelPoints, L = cp.ColumnCols, l = Unit.Y * cp.OutW + Unit.X;
        var result = new double[cp.Batch * 2 * Geometry.OffsetGroups * k * L];
        foreach (var p in Points)
        {
            int channel = 2 * (p.OffsetGroup * k + p.KernelRow * cp.KernelW + p.KernelColumn);
            result[((Unit.N * 2 * Geometry.OffsetGroups * k) + channel) * L + l] = p.GradDy;
            result[((Unit.N * 2 * Geometry.OffsetGroups * k) + channel + 1) * L + l] = p.GradDx;
        }
        return result;
    }

    /// <summary>∂out[unit]/∂mask laid out like the mask tensor, or null without a mask.</summary>
    public double[]? MaskGradient()
    {
        if (!HasMask) return null;
        var cp = Geometry.Conv;
        int k = Geometry.KernelPoints, L = cp.ColumnCols, l = Unit.Y * cp.OutW + Unit.X;
        var result = new double[cp.Batch * Geometry.OffsetGroups * k * L];
        foreach (var p in Points)
            result[(Unit.N * Geometry.OffsetGroups * k + p.OffsetGroup * k + p.KernelRow * cp.KernelW + p.KernelColumn) * L + l] =
                p.GradMask ?? 0;
        return result;
    }
}

/// <summary>How an explanation agrees with the engine's forward and backward (max absolute differences).</summary>
/// <param name="OutputError">|explanation.Output − engine out[unit]|.</param>
/// <param name="OffsetError">max over the whole offset tensor of |explained − engine ∂out[unit]/∂offset|.</param>
/// <param name="MaskError">The same for the mask; null without one.</param>
public sealed record EngineAgreement(double OutputError, double OffsetError, double? MaskError)
{
    /// <summary>The largest of the errors (the mask's counted as 0 without one).</summary>
    public double MaxError => Math.Max(Math.Max(OutputError, OffsetError), MaskError ?? 0);
}

/// <summary>Central differences of out[unit] with respect to one sampling point's Δy, Δx (and m).</summary>
public sealed record FiniteDifferenceGradient(int KernelRow, int KernelColumn, int OffsetGroup, double Dy, double Dx, double? Mask);

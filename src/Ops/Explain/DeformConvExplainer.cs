using DeformEngine.Kernels;

namespace DeformEngine.Explain;

/// <summary>Takes one output unit of a deformable convolution apart. For the unit
/// out[n, o, y, x] = bias[o] + Σ_k m_k · Σ_c weight[o, c, k] · Σ_q g_q(p_k) · input[n, c, q] it lists
/// every sampling point p_k, its corners q ∈ {lt, rt, lb, rb}, the coefficients g_q and the corner
/// terms of the offset gradient,
///   ∂out/∂Δy_k = Σ_q m_k · (∂g_q/∂p_y) · V_q   with V_q = Σ_c weight[o, c, k] · input[n, c, q]
/// (Δx likewise). floor() and the gather do not appear: they are piecewise constant in p. The
/// positions and coefficients come from the engine's own <see cref="BilinearCorners{T}"/> and
/// <see cref="DeformConv2dReferenceKernels.SamplingPoint{T}"/>; the sums are computed here, in double, so
/// that they can be checked against the engine's backward and against finite differences.</summary>
public static class DeformConvExplainer
{
    /// <summary>Explains out[n, o, y, x] of the <see cref="Functional.DeformConv2d{T}"/> call with these arguments
    /// (same shapes and defaults).</summary>
    /// <exception cref="ArgumentException">The arguments do not fit together (as the engine checks them).</exception>
    /// <exception cref="ArgumentOutOfRangeException">(n, o, y, x) is not an element of the output.</exception>
    public static DeformConvExplanation Explain<T>(Tensor<T> input, Tensor<T> offset, Tensor<T> weight, Tensor<T>? bias,
        (int H, int W)? stride, (int H, int W)? padding, (int H, int W)? dilation, Tensor<T>? mask,
        int n, int o, int y, int x)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Explain(new DeformConvCall<T>(input, offset, weight, bias, stride, padding, dilation, mask), new OutputUnit(n, o, y, x));

    /// <summary>Every sampling point of out[unit] with its corners, coefficients and offset-gradient terms, computed in
    /// double on the CPU.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together (as the engine checks
    /// them).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unit"/> is not an element of the call's
    /// output.</exception>
    public static DeformConvExplanation Explain<T>(DeformConvCall<T> call, OutputUnit unit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var dp = call.Params();
        call.RequireUnit(unit);
        var cp = dp.Conv;
        int k = dp.KernelPoints, L = cp.ColumnCols, plane = cp.Height * cp.Width;
        int offsetSize = 2 * dp.OffsetGroups * k * L, maskSize = dp.OffsetGroups * k * L;
        var offset = call.Offset.CpuData.AsSpan(unit.N * offsetSize, offsetSize);
        ReadOnlySpan<T> mask = call.Mask is null ? default : call.Mask.CpuData.AsSpan(unit.N * maskSize, maskSize);
        var image = call.Input.CpuData.AsSpan(unit.N * cp.InChannels * plane, cp.InChannels * plane);
        var weight = call.Weight.CpuData;
        int channelsPerConvGroup = cp.InChannels / cp.Groups;
        int convGroup = unit.O / (cp.OutChannels / cp.Groups);

        var points = new List<SamplingPointExplanation>();
        double output = call.Bias is null ? 0 : double.CreateChecked(call.Bias.CpuData[unit.O]);
        double bias = output;
        for (int g = 0; g < dp.OffsetGroups; g++)
        {
            // The channels that both use offset group g and feed output channel o.
            int first = Math.Max(g * dp.ChannelsPerOffsetGroup, convGroup * channelsPerConvGroup);
            int end = Math.Min((g + 1) * dp.ChannelsPerOffsetGroup, (convGroup + 1) * channelsPerConvGroup);
            int[] channels = Enumerable.Range(first, Math.Max(end - first, 0)).ToArray();
            for (int i = 0; i < cp.KernelH; i++)
                for (int j = 0; j < cp.KernelW; j++)
                {
                    int kernelPoint = i * cp.KernelW + j, l = unit.Y * cp.OutW + unit.X;
                    var weights = channels.Select(c => double.CreateChecked(
                        weight[((unit.O * channelsPerConvGroup + c - convGroup * channelsPerConvGroup) * cp.KernelH + i) * cp.KernelW + j])).ToArray();
                    double m = call.Mask is null ? 1 : double.CreateChecked(mask[(g * k + kernelPoint) * L + l]);
                    var point = ExplainPoint(dp, offset, image, g, i, j, unit, channels, weights, m, call.Mask is not null);
                    output += point.OutputContribution;
                    points.Add(point);
                }
        }
        return new DeformConvExplanation(unit, call.Mask is not null, bias, output, points, dp);
    }

    private static SamplingPointExplanation ExplainPoint<T>(DeformConv2dParams dp, ReadOnlySpan<T> offset, ReadOnlySpan<T> image,
        int g, int i, int j, OutputUnit unit, int[] channels, double[] weights, double m, bool hasMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        int k = i * cp.KernelW + j, L = cp.ColumnCols, l = unit.Y * cp.OutW + unit.X, plane = cp.Height * cp.Width;
        double dy = double.CreateChecked(offset[(g * dp.KernelPoints + k) * 2 * L + l]);
        double dx = double.CreateChecked(offset[((g * dp.KernelPoints + k) * 2 + 1) * L + l]);
        // The position in T exactly as the engine computes it (float rounding included).
        var (py, px) = DeformConv2dReferenceKernels.SamplingPoint(dp, offset, g, i, j, unit.Y, unit.X);
        var corners = new BilinearCorners<T>(py, px, cp.Height, cp.Width);
        double y = double.CreateChecked(py), x = double.CreateChecked(px);
        // The edges y = −1, x = −1 sample 0 but carry torchvision's slope: explained like inside points.
        if (!corners.HasSlope)
            return new SamplingPointExplanation(i, j, g, channels, weights, dy, dx, y, x, false, double.NaN, double.NaN, m,
                [], 0, 0, 0, hasMask ? 0 : null);

        double ly = double.CreateChecked(corners.Ly), lx = double.CreateChecked(corners.Lx);
        // NOTE: ∂ly/∂p_y = ∂lx/∂p_x = 1 (the floor is locally constant), so these are the
        // derivatives of g_q with respect to the position and hence to the offset.
        (Corner Which, int Row, int Column, bool In, double G, double GDy, double GDx)[] terms =
        [
            (Corner.Lt, corners.Top, corners.Left, corners.TopIn && corners.LeftIn, (1 - ly) * (1 - lx), -(1 - lx), -(1 - ly)),
            (Corner.Rt, corners.Top, corners.Left + 1, corners.TopIn && corners.RightIn, (1 - ly) * lx, -lx, 1 - ly),
            (Corner.Lb, corners.Top + 1, corners.Left, corners.BottomIn && corners.LeftIn, ly * (1 - lx), 1 - lx, -ly),
            (Corner.Rb, corners.Top + 1, corners.Left + 1, corners.BottomIn && corners.RightIn, ly * lx, lx, ly),
        ];
        var result = new CornerTerm[4];
        double sample = 0, gradDy = 0, gradDx = 0;
        for (int q = 0; q < 4; q++)
        {
            var t = terms[q];
            var values = new double[channels.Length];
            double weighted = 0;
            for (int c = 0; c < channels.Length; c++)
            {
                values[c] = t.In ? double.CreateChecked(image[channels[c] * plane + t.Row * cp.Width + t.Column]) : 0;
                weighted += weights[c] * values[c];
            }
            result[q] = new CornerTerm(t.Which, t.Row, t.Column, t.In, values, weighted, t.G, t.GDy, t.GDx,
                m * t.GDy * weighted, m * t.GDx * weighted);
            sample += t.G * weighted;
            gradDy += result[q].ContributionDy;
            gradDx += result[q].ContributionDx;
        }
        return new SamplingPointExplanation(i, j, g, channels, weights, dy, dx, y, x, true, ly, lx, m,
            result, sample, gradDy, gradDx, hasMask ? sample : null);
    }

    /// <summary>Runs the engine's forward and its backward with a one-hot output gradient at the
    /// unit, and compares the output, ∂out/∂offset and ∂out/∂mask with the explanation.</summary>
    public static EngineAgreement CompareWithEngine<T>(DeformConvCall<T> call, DeformConvExplanation explanation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(explanation);
        var (output, gradOffset, gradMask) = EngineGradients(call, explanation.Unit);
        var u = explanation.Unit;
        double outputError = Math.Abs(double.CreateChecked(output[u.N, u.O, u.Y, u.X]) - explanation.Output);
        double offsetError = MaxAbsDifference(explanation.OffsetGradient(), gradOffset.CpuData);
        double? maskError = gradMask is null ? null : MaxAbsDifference(explanation.MaskGradient()!, gradMask.CpuData);
        return new EngineAgreement(outputError, offsetError, maskError);
    }

    /// <summary>The engine's out, ∂out[unit]/∂offset and ∂out[unit]/∂mask (null without a mask).</summary>
    public static (Tensor<T> Output, Tensor<T> GradOffset, Tensor<T>? GradMask) EngineGradients<T>(DeformConvCall<T> call, OutputUnit unit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var offset = call.Offset.Detach();
        offset.RequiresGrad = true;
        var mask = call.Mask?.Detach();
        if (mask is not null) mask.RequiresGrad = true;
        var leaves = call.With(call.Input.Detach(), offset, call.Weight.Detach(), call.Bias?.Detach(), mask);
        var output = leaves.Run();
        output.Backward(call.OneHot(unit));
        return (output.Detach(), offset.Grad ?? Tensor<T>.ZerosLike(offset), mask is null ? null : mask.Grad ?? Tensor<T>.ZerosLike(mask));
    }

    /// <summary>Central differences of the engine's out[unit] with respect to each sampling point's
    /// Δy and Δx (and m), in double. Near an integer coordinate the derivative is one-sided and the
    /// central difference averages both sides: keep |frac(p)| away from 0 by more than
    /// <paramref name="eps"/> (see <see cref="GradCheck.KeepOffIntegers"/>).</summary>
    public static IReadOnlyList<FiniteDifferenceGradient> FiniteDifferences(DeformConvCall<double> call, OutputUnit unit, double eps = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(call);
        var dp = call.Params();
        call.RequireUnit(unit);
        var cp = dp.Conv;
        int k = dp.KernelPoints, L = cp.ColumnCols, l = unit.Y * cp.OutW + unit.X;
        var offset = call.Offset.Clone();
        var mask = call.Mask?.Clone();
        var probe = call.With(call.Input, offset, call.Weight, call.Bias, mask);
        using var _ = Autograd.NoGrad();
        double Central(double[] data, int index)
        {
            double saved = data[index];
            data[index] = saved + eps;
            double plus = probe.Run()[unit.N, unit.O, unit.Y, unit.X];
            data[index] = saved - eps;
            double minus = probe.Run()[unit.N, unit.O, unit.Y, unit.X];
            data[index] = saved;
            return (plus - minus) / (2 * eps);
        }
        var result = new List<FiniteDifferenceGradient>();
        for (int g = 0; g < dp.OffsetGroups; g++)
            for (int i = 0; i < cp.KernelH; i++)
                for (int j = 0; j < cp.KernelW; j++)
                {
                    int point = g * k + i * cp.KernelW + j;
                    int dyIndex = ((unit.N * dp.OffsetGroups * k + point) * 2) * L + l;
                    double fdy = Central(offset.CpuData, dyIndex);
                    double fdx = Central(offset.CpuData, dyIndex + L);
                    double? fdm = mask is null ? null : Central(mask.CpuData, (unit.N * dp.OffsetGroups * k + point) * L + l);
                    result.Add(new FiniteDifferenceGradient(i, j, g, fdy, fdx, fdm));
                }
        return result;
    }

    private static double MaxAbsDifference<T>(double[] expected, T[] actual) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double worst = 0;
        for (int e = 0; e < expected.Length; e++)
        {
            double difference = Math.Abs(expected[e] - double.CreateChecked(actual[e]));
            if (double.IsNaN(difference)) return double.PositiveInfinity;
            worst = Math.Max(worst, difference);
        }
        return worst;
    }
}

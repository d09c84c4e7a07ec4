using DeformEngine.Kernels;

namespace DeformEngine.Explain;

/// <summary>Takes one output unit of DCNv3 or DCNv4 apart. For out[n, y, x, c] = Σ_p m_p · Σ_q g_q(x_p, y_p) · v_q
/// (v_q = input[n, q, c], c in group g) it lists every sampling point, its corners q ∈ {lt, rt, lb, rb}, the
/// coefficients g_q and the corner terms of the gradient with respect to the sampling location,
///   ∂out/∂x_p = Σ_q m_p · (∂g_q/∂x) · v_q   (y likewise),
/// and then ∂out/∂Δx_p = s·∂out/∂x_p (s = offsetScale, since x_p = … + Δx_p·s) and ∂out/∂m_p = Σ_q g_q·v_q. floor()
/// and the gather do not appear: they are piecewise constant in the location. The location and the corners come
/// from the engine's own <see cref="Dcnv3Params.Location{T}"/> and <see cref="ZeroPaddedBilinear{T}"/>; the sums are
/// computed here, in double, to be checked against the engine's backward and against finite differences.</summary>
public static class Dcnv3Explainer
{
    /// <summary>Every sampling point of the DCNv3 output unit (O = channel) with its corners, coefficients and gradient
    /// terms, computed in double on the CPU.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together (as the engine checks
    /// them).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unit"/> is not an element of the call's
    /// output.</exception>
    public static Dcnv3Explanation Explain<T>(Dcnv3Call<T> call, OutputUnit unit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        return Explain(call.Sampling(), unit);
    }

    /// <summary>Every sampling point of the DCNv4 output unit (O = channel) with its corners, coefficients and gradient
    /// terms, computed in double on the CPU.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together (as the engine checks
    /// them).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unit"/> is not an element of the call's
    /// output.</exception>
    public static Dcnv3Explanation Explain<T>(Dcnv4Call<T> call, OutputUnit unit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        return Explain(call.Sampling(), unit);
    }

    private static Dcnv3Explanation Explain<T>(DcnvSampling<T> sampling, OutputUnit unit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        sampling.RequireUnit(unit);
        var geometry = sampling.Geometry;
        int group = unit.O / geometry.GroupChannels, row = DcnvSampling<T>.Row(geometry, unit);
        var points = new List<Dcnv3PointExplanation>();
        double output = 0;
        for (int p = 0; p < geometry.Points; p++)
        {
            var point = ExplainPoint(sampling, unit, row, group, p);
            output += point.OutputContribution;
            points.Add(point);
        }
        return new Dcnv3Explanation(unit, output, points, geometry, sampling.Packed)
        {
            Fields = sampling.Fields,
            OffsetLength = sampling.Offset.Numel,
            MaskLength = sampling.Mask.Numel,
        };
    }

    private static Dcnv3PointExplanation ExplainPoint<T>(DcnvSampling<T> sampling, OutputUnit unit, int row, int group, int p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var geometry = sampling.Geometry;
        var offset = sampling.Offset.CpuData;
        int at = sampling.Fields.OffsetX(row, group, p);
        double m = double.CreateChecked(sampling.Mask.CpuData[sampling.Fields.Mask(row, group, p)]);
        // The location in T exactly as the engine computes it (float rounding included).
        var (x, y) = geometry.Location(unit.Y, unit.X, p, offset[at], offset[at + 1]);
        var sampler = new ZeroPaddedBilinear<T>(x, y, geometry.Height, geometry.Width);
        double dx = double.CreateChecked(offset[at]), dy = double.CreateChecked(offset[at + 1]);
        int i = geometry.KernelColumn(p), j = geometry.KernelRow(p);
        if (!sampler.Any)
            return new Dcnv3PointExplanation(p, i, j, group, dx, dy, double.CreateChecked(x), double.CreateChecked(y), false,
                double.NaN, double.NaN, m, [], 0, 0, 0, 0, 0, 0);

        var input = sampling.Input.CpuData;
        int plane = geometry.Height * geometry.Width;
        var corners = new CornerTerm[4];
        double sample = 0, gradX = 0, gradY = 0;
        for (int q = 0; q < 4; q++)
        {
            int pixel = sampler.Pixel(q);
            double value = pixel < 0 ? 0 : double.CreateChecked(input[(unit.N * plane + pixel) * geometry.Channels + unit.O]);
            double coefficient = double.CreateChecked(sampler.Weight(q));
            // NOTE: ∂lx/∂x = ∂ly/∂y = 1 (the floor is locally constant), so these are the derivatives of g_q with
            // respect to the sampling location.
            double coefficientDy = double.CreateChecked(sampler.WeightDy(q)), coefficientDx = double.CreateChecked(sampler.WeightDx(q));
            corners[q] = new CornerTerm((Corner)q, sampler.Top + q / 2, sampler.Left + q % 2, pixel >= 0, [value], value, coefficient,
                coefficientDy, coefficientDx, m * coefficientDy * value, m * coefficientDx * value);
            sample += coefficient * value;
            gradX += corners[q].ContributionDx;
            gradY += corners[q].ContributionDy;
        }
        double scale = geometry.OffsetScale;
        return new Dcnv3PointExplanation(p, i, j, group, dx, dy, double.CreateChecked(x), double.CreateChecked(y), true,
            double.CreateChecked(sampler.Lx), double.CreateChecked(sampler.Ly), m, corners, sample, gradX, gradY, scale * gradX,
            scale * gradY, sample);
    }

    /// <summary>Runs the engine's forward and its backward with a one-hot output gradient at the unit and compares the
    /// output, ∂out/∂offset and ∂out/∂mask with the explanation (for DCNv4 the offset error covers every entry of
    /// offset_mask but the mask entries, the padding included).</summary>
    public static EngineAgreement CompareWithEngine<T>(Dcnv3Call<T> call, Dcnv3Explanation explanation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        return CompareWithEngine(call.Sampling(), explanation);
    }

    /// <summary>As for DCNv3: the engine's output and gradients at the unit against the explanation; the offset error
    /// covers every offset_mask entry but the weights, the padding included.</summary>
    public static EngineAgreement CompareWithEngine<T>(Dcnv4Call<T> call, Dcnv3Explanation explanation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        return CompareWithEngine(call.Sampling(), explanation);
    }

    private static EngineAgreement CompareWithEngine<T>(DcnvSampling<T> sampling, Dcnv3Explanation explanation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(explanation);
        var u = explanation.Unit;
        var (output, gradOffset, gradMask) = EngineGradients(sampling, u);
        double outputError = Math.Abs(double.CreateChecked(output[u.N, u.Y, u.X, u.O]) - explanation.Output);
        var offsetExpected = explanation.OffsetGradient();
        var maskExpected = explanation.MaskGradient();
        if (!sampling.Packed)
            return new EngineAgreement(outputError, MaxAbsDifference(offsetExpected, gradOffset.CpuData, _ => true),
                MaxAbsDifference(maskExpected, gradMask.CpuData, _ => true));
        // One offset_mask gradient: split it into its mask entries and everything else.
        var isMask = new bool[offsetExpected.Length];
        int points = sampling.Geometry.Points;
        for (int e = 0; e < isMask.Length; e++)
        {
            int inRow = e % sampling.Fields.OffsetRow;
            isMask[e] = inRow < 3 * sampling.Geometry.Group * points && inRow % (3 * points) >= 2 * points;
        }
        return new EngineAgreement(outputError, MaxAbsDifference(offsetExpected, gradOffset.CpuData, e => !isMask[e]),
            MaxAbsDifference(maskExpected, gradOffset.CpuData, e => isMask[e]));
    }

    /// <summary>The engine's out, and ∂out[unit]/∂ of its offset and mask tensors (the same offset_mask gradient twice for DCNv4).</summary>
    internal static (Tensor<T> Output, Tensor<T> GradOffset, Tensor<T> GradMask) EngineGradients<T>(DcnvSampling<T> sampling, OutputUnit unit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var offset = sampling.Offset.Detach();
        offset.RequiresGrad = true;
        var mask = sampling.Packed ? null : sampling.Mask.Detach();
        if (mask is not null) mask.RequiresGrad = true;
        var output = sampling.RunWith(sampling.Input.Detach(), offset, mask);
        output.Backward(sampling.OneHot(unit));
        var gradOffset = offset.Grad ?? Tensor<T>.ZerosLike(offset);
        return (output.Detach(), gradOffset, mask is null ? gradOffset : mask.Grad ?? Tensor<T>.ZerosLike(mask));
    }

    /// <summary>Central differences of the engine's out[unit] with respect to each sampling point's Δx, Δy and m, in
    /// double. Near an integer location the derivative is one-sided and the central difference averages both sides:
    /// keep the locations' fractional parts away from 0 by more than eps·offsetScale.</summary>
    public static IReadOnlyList<Dcnv3FiniteDifference> FiniteDifferences(Dcnv3Call<double> call, OutputUnit unit, double eps = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(call);
        var offset = call.Offset.Clone();
        var mask = call.Mask.Clone();
        return FiniteDifferences((call with { Offset = offset, Mask = mask }).Sampling(), unit, eps);
    }

    /// <summary>Central differences of out[unit] with respect to each sampling point's Δx, Δy and weight m in
    /// offset_mask, in double (see the DCNv3 overload for the choice of <paramref name="eps"/>).</summary>
    public static IReadOnlyList<Dcnv3FiniteDifference> FiniteDifferences(Dcnv4Call<double> call, OutputUnit unit, double eps = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(call);
        return FiniteDifferences((call with { OffsetMask = call.OffsetMask.Clone() }).Sampling(), unit, eps);
    }

    private static IReadOnlyList<Dcnv3FiniteDifference> FiniteDifferences(DcnvSampling<double> sampling, OutputUnit unit, double eps)
    {
        sampling.RequireUnit(unit);
        var geometry = sampling.Geometry;
        int group = unit.O / geometry.GroupChannels, row = DcnvSampling<double>.Row(geometry, unit);
        using var _ = Autograd.NoGrad();
        double Central(double[] data, int index)
        {
            double saved = data[index];
            data[index] = saved + eps;
            double plus = sampling.RunWith(sampling.Input, sampling.Offset, sampling.Packed ? null : sampling.Mask)[unit.N, unit.Y, unit.X, unit.O];
            data[index] = saved - eps;
            double minus = sampling.RunWith(sampling.Input, sampling.Offset, sampling.Packed ? null : sampling.Mask)[unit.N, unit.Y, unit.X, unit.O];
            data[index] = saved;
            return (plus - minus) / (2 * eps);
        }
        var result = new List<Dcnv3FiniteDifference>();
        for (int p = 0; p < geometry.Points; p++)
        {
            int at = sampling.Fields.OffsetX(row, group, p);
            result.Add(new Dcnv3FiniteDifference(p, group, Central(sampling.Offset.CpuData, at), Central(sampling.Offset.CpuData, at + 1),
                Central(sampling.Mask.CpuData, sampling.Fields.Mask(row, group, p))));
        }
        return result;
    }

    private static double MaxAbsDifference<T>(double[] expected, T[] actual, Func<int, bool> include) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double worst = 0;
        for (int e = 0; e < expected.Length; e++)
        {
            if (!include(e)) continue;
            double difference = Math.Abs(expected[e] - double.CreateChecked(actual[e]));
            if (double.IsNaN(difference)) return double.PositiveInfinity;
            worst = Math.Max(worst, difference);
        }
        return worst;
    }
}

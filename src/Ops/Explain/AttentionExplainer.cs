using DeformEngine.Kernels;

namespace DeformEngine.Explain;

/// <summary>Takes one output element of multi-scale deformable attention apart. For
/// out[n, q, m·D + d] = Σ_l Σ_p a_lp · Σ_c g_c(p_lp) · v_c with v_c = value[n, start_l + c, m, d], it lists
/// every sampling point over the levels, its pixel position x_pix = loc_x·W_l − 0.5, its corners, the
/// coefficients and the corner terms of the location gradient,
///   ∂out/∂loc_x = Σ_c a · W_l · (∂g_c/∂x_pix) · v_c   (loc_y likewise with H_l),
/// and ∂out/∂a = Σ_c g_c · v_c. floor() and the gather do not appear: they are piecewise constant in the
/// location. The corners come from the engine's own <see cref="AttentionLevel{T}"/>; the sums are
/// computed here, in double, to be checked against the engine's backward and against finite differences.</summary>
public static class AttentionExplainer
{
    /// <summary>Every sampling point of out[unit] with its corners, coefficients, ∂out/∂loc terms and ∂out/∂a, computed
    /// in double on the CPU.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together (as the engine checks
    /// them).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unit"/> is not an element of the call's
    /// output.</exception>
    public static AttentionExplanation Explain<T>(AttentionCall<T> call, AttentionUnit unit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var sizes = call.Params();
        call.RequireUnit(unit);
        var levels = AttentionLevel<T>.All(sizes);
        var locations = call.SamplingLocations.CpuData;
        var weights = call.AttentionWeights.CpuData;
        var points = new List<AttentionPointExplanation>();
        double output = 0;
        for (int l = 0; l < sizes.Levels; l++)
            for (int p = 0; p < sizes.Points; p++)
            {
                int point = (((unit.N * sizes.Queries + unit.Query) * sizes.Heads + unit.Head) * sizes.Levels + l) * sizes.Points + p;
                var explained = ExplainPoint(call, sizes, levels[l], unit, l, p, locations[2 * point], locations[2 * point + 1], weights[point]);
                output += explained.OutputContribution;
                points.Add(explained);
            }
        return new AttentionExplanation(unit, output, points, sizes);
    }

    private static AttentionPointExplanation ExplainPoint<T>(AttentionCall<T> call, MultiScaleDeformableAttentionParams sizes,
        AttentionLevel<T> level, AttentionUnit unit, int l, int p, T locationX, T locationY, T weight)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The pixel position and corners in T exactly as the engine computes them (float rounding included).
        var (pixelY, pixelX) = level.Pixel(locationX, locationY);
        var corners = level.Corners(locationX, locationY);
        double a = double.CreateChecked(weight), x = double.CreateChecked(locationX), y = double.CreateChecked(locationY);
        if (!corners.Any)
            return new AttentionPointExplanation(l, p, level.Height, level.Width, x, y, double.CreateChecked(pixelX), double.CreateChecked(pixelY),
                false, double.NaN, double.NaN, a, [], 0, 0, 0);
        var value = call.Value.CpuData;
        var terms = new AttentionCornerTerm[4];
        double sample = 0, gradX = 0, gradY = 0;
        for (int c = 0; c < 4; c++)
        {
            var (row, column, inside, g, gDy, gDx) = corners.Corner(c);
            int valueRow = unit.N * sizes.ValueLength + level.Start + row * level.Width + column;
            double v = inside ? double.CreateChecked(value[(valueRow * sizes.Heads + unit.Head) * sizes.HeadChannels + unit.Channel]) : 0;
            // NOTE: the chain through the pixel coordinate, x_pix = loc_x·W − 0.5: ∂/∂loc_x = W · ∂/∂x_pix.
            double dx = double.CreateChecked(gDx) * level.Width, dy = double.CreateChecked(gDy) * level.Height;
            terms[c] = new AttentionCornerTerm((Corner)c, row, column, inside, v, double.CreateChecked(g), dx, dy, a * dx * v, a * dy * v);
            sample += terms[c].Coefficient * v;
            gradX += terms[c].ContributionDx;
            gradY += terms[c].ContributionDy;
        }
        return new AttentionPointExplanation(l, p, level.Height, level.Width, x, y, double.CreateChecked(pixelX), double.CreateChecked(pixelY),
            true, double.CreateChecked(corners.Lx), double.CreateChecked(corners.Ly), a, terms, sample, gradX, gradY);
    }

    /// <summary>Runs the engine's forward and its backward with a one-hot output gradient at the unit, and
    /// compares the output, ∂out/∂locations and ∂out/∂weights with the explanation.</summary>
    public static AttentionAgreement CompareWithEngine<T>(AttentionCall<T> call, AttentionExplanation explanation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(explanation);
        var (output, gradLocations, gradWeights) = EngineGradients(call, explanation.Unit);
        var u = explanation.Unit;
        double outputError = Math.Abs(double.CreateChecked(output[u.N, u.Query, u.Head * explanation.Sizes.HeadChannels + u.Channel]) -
                                      explanation.Output);
        return new AttentionAgreement(outputError, MaxAbsDifference(explanation.LocationGradient(), gradLocations.CpuData),
            MaxAbsDifference(explanation.AttentionWeightGradient(), gradWeights.CpuData));
    }

    /// <summary>The engine's out, ∂out[unit]/∂samplingLocations and ∂out[unit]/∂attentionWeights.</summary>
    public static (Tensor<T> Output, Tensor<T> GradLocations, Tensor<T> GradWeights) EngineGradients<T>(AttentionCall<T> call, AttentionUnit unit)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var locations = call.SamplingLocations.Detach();
        var weights = call.AttentionWeights.Detach();
        locations.RequiresGrad = true;
        weights.RequiresGrad = true;
        var output = call.With(call.Value.Detach(), locations, weights).Run();
        output.Backward(call.OneHot(unit));
        return (output.Detach(), locations.Grad ?? Tensor<T>.ZerosLike(locations), weights.Grad ?? Tensor<T>.ZerosLike(weights));
    }

    /// <summary>Central differences of the engine's out[unit] with respect to each of the unit's sampling
    /// points' loc_x, loc_y and a, in double. Near a pixel coordinate with an integer value the derivative
    /// is one-sided: keep x_pix, y_pix away from integers by more than eps · W_l.</summary>
    public static IReadOnlyList<AttentionFiniteDifference> FiniteDifferences(AttentionCall<double> call, AttentionUnit unit, double eps = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(call);
        var sizes = call.Params();
        call.RequireUnit(unit);
        var locations = call.SamplingLocations.Clone();
        var weights = call.AttentionWeights.Clone();
        var probe = call.With(call.Value, locations, weights);
        int column = unit.Head * sizes.HeadChannels + unit.Channel;
        using var _ = Autograd.NoGrad();
        double Central(double[] data, int index)
        {
            double saved = data[index];
            data[index] = saved + eps;
            double plus = probe.Run()[unit.N, unit.Query, column];
            data[index] = saved - eps;
            double minus = probe.Run()[unit.N, unit.Query, column];
            data[index] = saved;
            return (plus - minus) / (2 * eps);
        }
        var result = new List<AttentionFiniteDifference>();
        for (int l = 0; l < sizes.Levels; l++)
            for (int p = 0; p < sizes.Points; p++)
            {
                int point = (((unit.N * sizes.Queries + unit.Query) * sizes.Heads + unit.Head) * sizes.Levels + l) * sizes.Points + p;
                result.Add(new AttentionFiniteDifference(l, p, Central(locations.CpuData, 2 * point), Central(locations.CpuData, 2 * point + 1),
                    Central(weights.CpuData, point)));
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

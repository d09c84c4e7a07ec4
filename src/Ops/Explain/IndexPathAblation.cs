namespace DeformEngine.Explain;

/// <summary>∂out[unit]/∂Δp of one sampling point along the real graph and along the index-only one.</summary>
public sealed record AblationRow(int KernelRow, int KernelColumn, int OffsetGroup,
    double RealDy, double RealDx, double IndexOnlyDy, double IndexOnlyDx);

/// <summary>The real computation next to its index-only ablation, for L = out[unit].</summary>
/// <param name="Unit">The output unit whose gradient is taken.</param>
/// <param name="RealOutput">out[unit] from the composed graph with both paths.</param>
/// <param name="IndexOnlyOutput">out[unit] from the ablated graph: the same value, since only the
/// backward differs.</param>
/// <param name="RealGradOffset">∂out[unit]/∂offset, real graph (whole offset tensor).</param>
/// <param name="IndexOnlyGradOffset">∂out[unit]/∂offset, index-only graph: exactly 0.</param>
/// <param name="Rows">The unit's sampling points.</param>
public sealed record AblationResult<T>(OutputUnit Unit, double RealOutput, double IndexOnlyOutput,
    Tensor<T> RealGradOffset, Tensor<T> IndexOnlyGradOffset, IReadOnlyList<AblationRow> Rows)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Runs <see cref="DeformConvPaths"/> twice — with the coefficients' dependence on the
/// position, and without it — and back-propagates a one-hot gradient at the unit through each.
/// Cutting the coefficients leaves ⌊p⌋ and the gather, and the offset gradient is exactly 0: the
/// offsets get their gradient through g_lt, g_rt, g_lb, g_rb, never through the indices.</summary>
public static class IndexPathAblation
{
    /// <summary>out[unit] and ∂out[unit]/∂offset along the real graph and along the index-only one, with a row per
    /// sampling point of the unit.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together, or an offset is not
    /// finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unit"/> is not an element of the call's
    /// output.</exception>
    public static AblationResult<T> Run<T>(DeformConvCall<T> call, OutputUnit unit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var dp = call.Params();
        call.RequireUnit(unit);
        var (realOutput, realGrad) = Backward(call, unit, OffsetPath.IndicesAndCoefficients);
        var (ablatedOutput, ablatedGrad) = Backward(call, unit, OffsetPath.IndicesOnly);

        var cp = dp.Conv;
        var rows = new List<AblationRow>();
        for (int g = 0; g < dp.OffsetGroups; g++)
            for (int i = 0; i < cp.KernelH; i++)
                for (int j = 0; j < cp.KernelW; j++)
                {
                    int channel = 2 * (g * dp.KernelPoints + i * cp.KernelW + j);
                    double At(Tensor<T> grad, int c) => double.CreateChecked(grad[unit.N, c, unit.Y, unit.X]);
                    rows.Add(new AblationRow(i, j, g, At(realGrad, channel), At(realGrad, channel + 1),
                        At(ablatedGrad, channel), At(ablatedGrad, channel + 1)));
                }
        return new AblationResult<T>(unit, realOutput, ablatedOutput, realGrad, ablatedGrad, rows);
    }

    private static (double Output, Tensor<T> GradOffset) Backward<T>(DeformConvCall<T> call, OutputUnit unit, OffsetPath path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var offset = call.Offset.Detach();
        offset.RequiresGrad = true;
        var leaves = call.With(call.Input.Detach(), offset, call.Weight.Detach(), call.Bias?.Detach(), call.Mask?.Detach());
        var output = DeformConvPaths.Forward(leaves, path);
        output.Backward(call.OneHot(unit));
        // The index path still connects the offset to the output (through ⌊p⌋), so a gradient
        // arrives: the zeros that floor and the gather pass back.
        var grad = offset.Grad ?? throw new InvalidOperationException("The offset was not reached by the backward.");
        return (double.CreateChecked(output[unit.N, unit.O, unit.Y, unit.X]), grad);
    }
}

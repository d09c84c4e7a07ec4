namespace DeformEngine.Explain;

/// <summary>DCNv3 / DCNv4 composed from small autograd operations — location = base + (kernel offset + Δ)·s, ⌊·⌋, a
/// corner gather, the coefficients, a weighted sum over corners and points — so that the graph itself shows which
/// path carries the offset gradient. With <see cref="OffsetPath.IndicesAndCoefficients"/> it equals the engine's
/// operator (forward and every gradient, up to summation order); with <see cref="OffsetPath.IndicesOnly"/> the
/// forward is identical and ∂L/∂Δ is exactly 0 (DCNv4's mask entries still get theirs). Slow: a teaching tool.</summary>
public static class Dcnv3Paths
{
    /// <summary>[N, OutH, OutW, C] as <see cref="Functional.Dcnv3{T}"/>, built from small recorded operations;
    /// <paramref name="path"/> chooses which dependences on the locations the graph keeps.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together, or an offset is not
    /// finite.</exception>
    public static Tensor<T> Forward<T>(Dcnv3Call<T> call, OffsetPath path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var geometry = call.Params();
        RequireFinite(call.Offset);
        int n = geometry.Batch, oh = geometry.OutH, ow = geometry.OutW, g = geometry.Group, p = geometry.Points;
        // [N, OutH, OutW, G·P·2] → Δ [N, G, P, 2 (x, y), OutH, OutW]; mask → [N, G, P, 1, OutH, OutW].
        var delta = call.Offset.Reshape(n, oh, ow, g, p, 2).Permute(0, 3, 4, 5, 1, 2);
        var mask = call.Mask.Reshape(n, oh, ow, g, p).Permute(0, 3, 4, 1, 2).Reshape(n, g, p, 1, oh, ow);
        return Compose(geometry, call.Input, delta, mask, path);
    }

    /// <summary>[N, OutH, OutW, C] as <see cref="Functional.Dcnv4{T}"/>, built from small recorded operations;
    /// <paramref name="path"/> chooses which dependences on the locations the graph keeps.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together, or an offset is not
    /// finite.</exception>
    public static Tensor<T> Forward<T>(Dcnv4Call<T> call, OffsetPath path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var geometry = call.Params().Sampling;
        int n = geometry.Batch, oh = geometry.OutH, ow = geometry.OutW, g = geometry.Group, p = geometry.Points;
        var perGroup = call.OffsetMask.Slice(3, 0, 3 * g * p).Reshape(n, oh, ow, g, 3 * p);
        var offsets = perGroup.Slice(4, 0, 2 * p);
        RequireFinite(offsets);
        var delta = offsets.Reshape(n, oh, ow, g, p, 2).Permute(0, 3, 4, 5, 1, 2);
        var mask = perGroup.Slice(4, 2 * p, p).Permute(0, 3, 4, 1, 2).Reshape(n, g, p, 1, oh, ow);
        return Compose(geometry, call.Input, delta, mask, path);
    }

    private static void RequireFinite<T>(Tensor<T> offsets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var value in offsets.Detach().ToArray())
            if (!T.IsFinite(value))
                throw new ArgumentException(
                    "call: the composed paths need finite offsets (the engine reads 0 at non-finite positions; use Functional.Dcnv3 or Dcnv4).", "call");
    }

    /// <summary>input [N, H, W, C], Δ [N, G, P, 2 (x, y), OutH, OutW], mask [N, G, P, 1, OutH, OutW] → [N, OutH, OutW, C].</summary>
    private static Tensor<T> Compose<T>(Dcnv3Params geometry, Tensor<T> input, Tensor<T> delta, Tensor<T> mask, OffsetPath path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = geometry.Batch, oh = geometry.OutH, ow = geometry.OutW, g = geometry.Group, p = geometry.Points;
        var (kernelOffsets, bases) = Grid<T>(geometry);
        // The engine's arithmetic, operation for operation: base + (kernel offset + Δ)·s.
        var location = delta.Add(kernelOffsets).MulScalar(T.CreateChecked(geometry.OffsetScale)).Add(bases);
        // PathOps.GatherCorners wants (y, x).
        var position = Tensor<T>.Cat([location.Slice(3, 1, 1), location.Slice(3, 0, 1)], axis: 3);
        var corner = PathOps.Floor(position);
        var fraction = path == OffsetPath.IndicesAndCoefficients
            ? position.Sub(corner)
            // NOTE: the ablation. Detaching here cuts Δ → (ly, lx) → g_q; what is left of Δ's influence is
            // ⌊location⌋ → gather, whose derivative is 0.
            : position.Detach().Sub(corner.Detach());
        var ly = fraction.Slice(3, 0, 1);
        var lx = fraction.Slice(3, 1, 1);
        var oneMinusLy = ly.Neg().AddScalar(T.One);
        var oneMinusLx = lx.Neg().AddScalar(T.One);
        var coefficients = Tensor<T>.Cat([oneMinusLy.Mul(oneMinusLx), oneMinusLy.Mul(lx), ly.Mul(oneMinusLx), ly.Mul(lx)], axis: 3)
            .Reshape(n, g, p, 4, 1, oh, ow);
        // grid_sample's rule: no inside test, a corner outside the map reads 0 (the gather's own rule).
        var sample = PathOps.GatherCorners(input.Permute(0, 3, 1, 2), corner).Mul(coefficients).Sum(3);
        var output = sample.Mul(mask).Sum(2).Reshape(n, g * geometry.GroupChannels, oh, ow);
        return output.Permute(0, 2, 3, 1);
    }

    /// <summary>The kernel offsets (i·dW − hW, j·dH − hH) as [1, 1, P, 2, 1, 1] and the window bases
    /// (ox·sW − padW + hW, oy·sH − padH + hH) as [1, 1, 1, 2, OutH, OutW].</summary>
    private static (Tensor<T> KernelOffsets, Tensor<T> Bases) Grid<T>(Dcnv3Params geometry) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int p = geometry.Points, oh = geometry.OutH, ow = geometry.OutW;
        var kernel = new T[p * 2];
        for (int point = 0; point < p; point++)
        {
            kernel[2 * point] = T.CreateTruncating(geometry.KernelColumn(point) * geometry.Dilation.W - geometry.HalfW);
            kernel[2 * point + 1] = T.CreateTruncating(geometry.KernelRow(point) * geometry.Dilation.H - geometry.HalfH);
        }
        var bases = new T[2 * oh * ow];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                bases[y * ow + x] = T.CreateTruncating(x * geometry.Stride.W - geometry.Padding.W + geometry.HalfW);
                bases[oh * ow + y * ow + x] = T.CreateTruncating(y * geometry.Stride.H - geometry.Padding.H + geometry.HalfH);
            }
        return (Tensor<T>.FromArray(kernel, 1, 1, p, 2, 1, 1), Tensor<T>.FromArray(bases, 1, 1, 1, 2, oh, ow));
    }
}

/// <summary>Runs <see cref="Dcnv3Paths"/> with and without the coefficients' dependence on the location and
/// back-propagates a one-hot gradient at the unit through each: cutting the coefficients leaves ⌊location⌋ and
/// the gather, and ∂out/∂Δ is exactly 0 — the offsets get their gradient through g_lt, g_rt, g_lb, g_rb, never
/// through the indices.</summary>
public static class Dcnv3IndexPathAblation
{
    /// <summary>out[unit] and ∂out[unit]/∂offset of a DCNv3 call along the real graph and along the index-only one,
    /// with a row per sampling point of the unit.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together, or an offset is not
    /// finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unit"/> is not an element of the call's
    /// output.</exception>
    public static AblationResult<T> Run<T>(Dcnv3Call<T> call, OutputUnit unit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var sampling = call.Sampling();
        sampling.RequireUnit(unit);
        return Ablate(sampling, unit, path => Backward(sampling, unit, offset =>
            Dcnv3Paths.Forward(call with { Input = call.Input.Detach(), Offset = offset, Mask = call.Mask.Detach() }, path)));
    }

    /// <summary>out[unit] and ∂out[unit]/∂offset_mask of a DCNv4 call along the real graph and along the index-only
    /// one, with a row per sampling point of the unit.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together, or an offset is not
    /// finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unit"/> is not an element of the call's
    /// output.</exception>
    public static AblationResult<T> Run<T>(Dcnv4Call<T> call, OutputUnit unit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var sampling = call.Sampling();
        sampling.RequireUnit(unit);
        return Ablate(sampling, unit, path => Backward(sampling, unit, offsetMask =>
            Dcnv3Paths.Forward(call with { Input = call.Input.Detach(), OffsetMask = offsetMask }, path)));
    }

    private static AblationResult<T> Ablate<T>(DcnvSampling<T> sampling, OutputUnit unit, Func<OffsetPath, (double, Tensor<T>)> backward)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (realOutput, realGrad) = backward(OffsetPath.IndicesAndCoefficients);
        var (ablatedOutput, ablatedGrad) = backward(OffsetPath.IndicesOnly);
        var geometry = sampling.Geometry;
        int group = unit.O / geometry.GroupChannels, row = DcnvSampling<T>.Row(geometry, unit);
        var rows = new List<AblationRow>();
        for (int p = 0; p < geometry.Points; p++)
        {
            int at = sampling.Fields.OffsetX(row, group, p);
            double At(Tensor<T> grad, int index) => double.CreateChecked(grad.CpuData[index]);
            rows.Add(new AblationRow(geometry.KernelRow(p), geometry.KernelColumn(p), group,
                At(realGrad, at + 1), At(realGrad, at), At(ablatedGrad, at + 1), At(ablatedGrad, at)));
        }
        return new AblationResult<T>(unit, realOutput, ablatedOutput, realGrad, ablatedGrad, rows);
    }

    /// <summary>out[unit] and ∂out[unit]/∂(offset tensor, or offset_mask) through the composed graph.</summary>
    private static (double Output, Tensor<T> GradOffset) Backward<T>(DcnvSampling<T> sampling, OutputUnit unit, Func<Tensor<T>, Tensor<T>> forward)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var offset = sampling.Offset.Detach();
        offset.RequiresGrad = true;
        var output = forward(offset);
        output.Backward(sampling.OneHot(unit));
        // The index path still connects Δ to the output (through ⌊location⌋), so a gradient arrives: the zeros
        // that floor and the gather pass back.
        var grad = offset.Grad ?? throw new InvalidOperationException("The offset was not reached by the backward.");
        return (double.CreateChecked(output[unit.N, unit.Y, unit.X, unit.O]), grad);
    }
}

namespace DeformEngine.Kernels;

/// <summary>Reference (plain loop) kernels of <see cref="Functional.Dcnv3{T}"/> and
/// <see cref="Functional.Dcnv4{T}"/>, which differ only in where their offsets and masks live
/// (<see cref="Dcnv3Fields"/>). Layouts: input [N, H, W, G·Cg], output [N, OutH, OutW, G·Cg].
/// Each sampling point is located once and applied to the Cg channels of its group.</summary>
internal static class Dcnv3ReferenceKernels
{
    /// <summary>The sampler of point p of group g at output (n, oy, ox).</summary>
    public static ZeroPaddedBilinear<T> Locate<T>(Dcnv3Params parameters, Dcnv3Fields fields, ReadOnlySpan<T> offset,
        int row, int oy, int ox, int group, int point) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int at = fields.OffsetX(row, group, point);
        var (x, y) = parameters.Location(oy, ox, point, offset[at], offset[at + 1]);
        return new ZeroPaddedBilinear<T>(x, y, parameters.Height, parameters.Width);
    }

    /// <summary>out[n, oy, ox, g·Cg + c] = Σ_p m_p · Σ_q g_q · input[n, q, g·Cg + c].</summary>
    public static T[] Forward<T>(Dcnv3Params parameters, Dcnv3Fields fields, T[] input, T[] offset, T[] mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = parameters.Channels, groupChannels = parameters.GroupChannels, plane = parameters.Height * parameters.Width;
        var output = new T[parameters.Batch * parameters.Positions * channels];
        for (int n = 0; n < parameters.Batch; n++)
            for (int oy = 0; oy < parameters.OutH; oy++)
                for (int ox = 0; ox < parameters.OutW; ox++)
                {
                    int row = (n * parameters.OutH + oy) * parameters.OutW + ox;
                    for (int g = 0; g < parameters.Group; g++)
                        for (int p = 0; p < parameters.Points; p++)
                        {
                            var sampler = Locate(parameters, fields, offset, row, oy, ox, g, p);
                            if (!sampler.Any) continue;
                            T m = mask[fields.Mask(row, g, p)];
                            for (int c = g * groupChannels; c < (g + 1) * groupChannels; c++)
                            {
                                T sample = T.Zero;
                                for (int q = 0; q < 4; q++)
                                {
                                    int pixel = sampler.Pixel(q);
                                    if (pixel >= 0) sample += sampler.Weight(q) * input[(n * plane + pixel) * channels + c];
                                }
                                output[row * channels + c] += m * sample;
                            }
                        }
                }
        return output;
    }

    /// <summary>The backward in one pass over the sampling points, for upstream u = ∂L/∂out:
    /// ∂L/∂input[n, q, c] += m·g_q·u[c]; ∂L/∂m = Σ_c u[c]·Σ_q g_q v_q[c];
    /// ∂L/∂Δx = s·m·Σ_c u[c]·Σ_q (∂g_q/∂x)·v_q[c] (Δy likewise), s = offsetScale. Null destinations are
    /// skipped; the offset and mask destinations may be the same array (DCNv4).</summary>
    public static void Backward<T>(Dcnv3Params parameters, Dcnv3Fields fields, T[] gradOutput, T[] input, T[] offset, T[] mask,
        T[]? gradInput, T[]? gradOffset, T[]? gradMask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = parameters.Channels, groupChannels = parameters.GroupChannels, plane = parameters.Height * parameters.Width;
        T scale = T.CreateChecked(parameters.OffsetScale);
        for (int n = 0; n < parameters.Batch; n++)
            for (int oy = 0; oy < parameters.OutH; oy++)
                for (int ox = 0; ox < parameters.OutW; ox++)
                {
                    int row = (n * parameters.OutH + oy) * parameters.OutW + ox;
                    for (int g = 0; g < parameters.Group; g++)
                        for (int p = 0; p < parameters.Points; p++)
                        {
                            var sampler = Locate(parameters, fields, offset, row, oy, ox, g, p);
                            // NOTE: a point with no corner in the map read 0 whatever its offset and mask:
                            // its gradients stay 0 (even for a non-finite mask).
                            if (!sampler.Any) continue;
                            T m = mask[fields.Mask(row, g, p)];
                            T sumX = T.Zero, sumY = T.Zero, sumMask = T.Zero;
                            for (int c = g * groupChannels; c < (g + 1) * groupChannels; c++)
                            {
                                T upstream = gradOutput[row * channels + c];
                                for (int q = 0; q < 4; q++)
                                {
                                    int pixel = sampler.Pixel(q);
                                    if (pixel < 0) continue;
                                    int at = (n * plane + pixel) * channels + c;
                                    T value = input[at];
                                    sumMask += upstream * sampler.Weight(q) * value;
                                    sumX += upstream * sampler.WeightDx(q) * value;
                                    sumY += upstream * sampler.WeightDy(q) * value;
                                    if (gradInput is not null) gradInput[at] += m * sampler.Weight(q) * upstream;
                                }
                            }
                            if (gradOffset is not null)
                            {
                                int at = fields.OffsetX(row, g, p);
                                // NOTE: x = … + Δx·s, so ∂x/∂Δx = s (offsetScale), not 1.
                                gradOffset[at] = scale * m * sumX;
                                gradOffset[at + 1] = scale * m * sumY;
                            }
                            if (gradMask is not null) gradMask[fields.Mask(row, g, p)] = sumMask;
                        }
                }
    }
}

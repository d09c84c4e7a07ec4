namespace DeformEngine.Kernels;

/// <summary>Reference (plain loop) kernels of <see cref="Functional.DeformConv2d{T}"/> for one image.
/// Layouts: image [C, H, W]; offset [G, kh·kw, 2 (dy, dx), OutH·OutW]; mask [G, kh·kw, OutH·OutW]
/// (empty span = no mask); columns [C·kh·kw, OutH·OutW] with row (c·kh + i)·kw + j.
/// Each sampling point's corners and coefficients are computed once and reused for every input
/// channel of its offset group.</summary>
internal static class DeformConv2dReferenceKernels
{
    /// <summary>Where kernel point (i, j) of output (y, x) samples, for offset group g.</summary>
    public static (T Y, T X) SamplingPoint<T>(DeformConv2dParams dp, ReadOnlySpan<T> offset, int g, int i, int j, int y, int x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        int l = y * cp.OutW + x;
        int k = i * cp.KernelW + j;
        int L = cp.ColumnCols;
        T dy = offset[((g * dp.KernelPoints + k) * 2) * L + l];
        T dx = offset[((g * dp.KernelPoints + k) * 2 + 1) * L + l];
        return (T.CreateTruncating(y * cp.Stride.H - cp.Padding.H + i * cp.Dilation.H) + dy,
                T.CreateTruncating(x * cp.Stride.W - cp.Padding.W + j * cp.Dilation.W) + dx);
    }

    /// <summary>columns[(c·kh + i)·kw + j, l] = m · bilinear(image[c], p).</summary>
    public static void Im2Col<T>(DeformConv2dParams dp, ReadOnlySpan<T> image, ReadOnlySpan<T> offset,
        ReadOnlySpan<T> mask, Span<T> columns) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        int L = cp.ColumnCols, plane = cp.Height * cp.Width, K = dp.KernelPoints;
        for (int g = 0; g < dp.OffsetGroups; g++)
            for (int i = 0; i < cp.KernelH; i++)
                for (int j = 0; j < cp.KernelW; j++)
                    for (int y = 0; y < cp.OutH; y++)
                        for (int x = 0; x < cp.OutW; x++)
                        {
                            int k = i * cp.KernelW + j, l = y * cp.OutW + x;
                            var (py, px) = SamplingPoint(dp, offset, g, i, j, y, x);
                            var corners = new BilinearCorners<T>(py, px, cp.Height, cp.Width);
                            T m = mask.IsEmpty ? T.One : mask[(g * K + k) * L + l];
                            for (int c = g * dp.ChannelsPerOffsetGroup; c < (g + 1) * dp.ChannelsPerOffsetGroup; c++)
                                columns[(c * K + k) * L + l] = m * corners.Sample(image.Slice(c * plane, plane), cp.Width);
                        }
    }

    /// <summary>The backward of the sampling step, one pass over the sampling points:
    /// gradImage[c, q] += g_q · m · gradColumns; gradOffset = m · Σ_c gradColumns · ∂sample/∂(y, x);
    /// gradMask = Σ_c gradColumns · sample. Empty destination spans are skipped.</summary>
    public static void SamplingBackward<T>(DeformConv2dParams dp, ReadOnlySpan<T> gradColumns, ReadOnlySpan<T> image,
        ReadOnlySpan<T> offset, ReadOnlySpan<T> mask, Span<T> gradImage, Span<T> gradOffset, Span<T> gradMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        int L = cp.ColumnCols, plane = cp.Height * cp.Width, K = dp.KernelPoints;
        for (int g = 0; g < dp.OffsetGroups; g++)
            for (int i = 0; i < cp.KernelH; i++)
                for (int j = 0; j < cp.KernelW; j++)
                    for (int y = 0; y < cp.OutH; y++)
                        for (int x = 0; x < cp.OutW; x++)
                        {
                            int k = i * cp.KernelW + j, l = y * cp.OutW + x;
                            var (py, px) = SamplingPoint(dp, offset, g, i, j, y, x);
                            var corners = new BilinearCorners<T>(py, px, cp.Height, cp.Width);
                            // NOTE: a point outside [−1, H) × [−1, W), or a non-finite one, sampled 0
                            // whatever its offset: every gradient through it is 0. On the edges y = −1,
                            // x = −1 it sampled 0 too (no input or mask gradient) but has torchvision's slope.
                            if (!corners.HasSlope) continue;
                            T m = mask.IsEmpty ? T.One : mask[(g * K + k) * L + l];
                            T dy = T.Zero, dx = T.Zero, dm = T.Zero;
                            for (int c = g * dp.ChannelsPerOffsetGroup; c < (g + 1) * dp.ChannelsPerOffsetGroup; c++)
                            {
                                T upstream = gradColumns[(c * K + k) * L + l];
                                var channel = image.Slice(c * plane, plane);
                                if (!gradImage.IsEmpty) corners.Scatter(gradImage.Slice(c * plane, plane), cp.Width, m * upstream);
                                if (!gradOffset.IsEmpty)
                                {
                                    var (sy, sx) = corners.Gradient(channel, cp.Width);
                                    dy += upstream * sy;
                                    dx += upstream * sx;
                                }
                                if (!gradMask.IsEmpty && corners.Inside) dm += upstream * corners.Sample(channel, cp.Width);
                            }
                            if (!gradOffset.IsEmpty)
                            {
                                gradOffset[((g * K + k) * 2) * L + l] = m * dy;
                                gradOffset[((g * K + k) * 2 + 1) * L + l] = m * dx;
                            }
                            if (!gradMask.IsEmpty) gradMask[(g * K + k) * L + l] = dm;
                        }
    }
}

namespace DeformEngine;

/// <summary>Geometry of a deformable convolution: a regular convolution's shape plus
/// <see cref="OffsetGroups"/> groups of input channels that share one offset (and mask) field.</summary>
public sealed record DeformConv2dParams(Conv2dParams Conv, int OffsetGroups, bool HasMask)
{
    /// <summary>Sampling points per output position and offset group: kh·kw.</summary>
    public int KernelPoints => Conv.KernelH * Conv.KernelW;

    /// <summary>Input channels per offset group.</summary>
    public int ChannelsPerOffsetGroup => Conv.InChannels / OffsetGroups;

    /// <summary>[N, 2·OffsetGroups·kh·kw, OutH, OutW]: the checked shape of the offset, (dy, dx) pairs per kernel point
    /// and offset group.</summary>
    public int[] OffsetShape => [Conv.Batch, 2 * OffsetGroups * KernelPoints, Conv.OutH, Conv.OutW];

    /// <summary>[N, OffsetGroups·kh·kw, OutH, OutW]: the checked shape of the modulation mask.</summary>
    public int[] MaskShape => [Conv.Batch, OffsetGroups * KernelPoints, Conv.OutH, Conv.OutW];

    /// <summary>Checks every argument of <see cref="Functional.DeformConv2d{T}"/> before any work.</summary>
    internal static DeformConv2dParams Create<T>(Tensor<T> input, Tensor<T> offset, Tensor<T> weight, Tensor<T>? bias,
        (int H, int W)? stride, (int H, int W)? padding, (int H, int W)? dilation, Tensor<T>? mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(offset);
        var conv = Conv2dParams.Create(input, weight, bias, stride, padding, dilation, groups: null);
        ShapeMath.RequireRank(nameof(offset), offset.ShapeSpan, 4, "[N, 2·offset_groups·kh·kw, OutH, OutW]");
        Functional.RequireSameDevice(nameof(offset), input, offset);
        Functional.RequireSameDevice(nameof(mask), input, mask);
        var o = offset.ShapeArray;
        int k = conv.KernelH * conv.KernelW;
        if (o[1] == 0 || o[1] % (2 * k) != 0)
            throw new ArgumentException(
                $"offset: channels must be a positive multiple of 2·kh·kw = {2 * k} (dy, dx per kernel point and offset group), got shape {ShapeMath.Format(o)}.", nameof(offset));
        int offsetGroups = o[1] / (2 * k);
        if (conv.InChannels % offsetGroups != 0)
            throw new ArgumentException(
                $"offset: {offsetGroups} offset groups (from {o[1]} channels) do not divide the {conv.InChannels} input channels.", nameof(offset));
        // The fast kernels hold one image zero-bordered (one row above, two below, a column each side).
        OpArgs.ElementCount(nameof(input), "one image with its sampling border", conv.InChannels, conv.Height + 3L, conv.Width + 2L);
        var result = new DeformConv2dParams(conv, offsetGroups, mask is not null);
        ShapeMath.RequireShape(nameof(offset), o, result.OffsetShape);
        if (mask is not null)
        {
            ShapeMath.RequireRank(nameof(mask), mask.ShapeSpan, 4, "[N, offset_groups·kh·kw, OutH, OutW]");
            ShapeMath.RequireShape(nameof(mask), mask.ShapeSpan, result.MaskShape);
        }
        return result;
    }
}

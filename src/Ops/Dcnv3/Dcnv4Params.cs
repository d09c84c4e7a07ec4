namespace DeformEngine;

/// <summary>Geometry of a DCNv4 call: the sampling of <see cref="Dcnv3Params"/> and the length of an
/// offset_mask row, G·P·3 rounded up to a multiple of 8 as DCNv4 pads it (the tail is unused).</summary>
public sealed record Dcnv4Params(Dcnv3Params Sampling, int OffsetMaskLength)
{
    /// <summary>⌈3·G·P / 8⌉·8: the last dimension of offset_mask (DCNv4's Linear emits exactly this).</summary>
    public static int PackedLength(int group, int points) => (3 * group * points + 7) / 8 * 8;

    /// <summary>[N, OutH, OutW, <see cref="OffsetMaskLength"/>]: the checked shape of offset_mask.</summary>
    public int[] OffsetMaskShape => [Sampling.Batch, Sampling.OutH, Sampling.OutW, OffsetMaskLength];

    /// <summary>Checks every argument of <see cref="Functional.Dcnv4{T}"/> before any work.</summary>
    internal static Dcnv4Params Create<T>(Tensor<T> input, Tensor<T> offsetMask, (int H, int W) kernelSize, (int H, int W)? stride,
        (int H, int W)? padding, (int H, int W)? dilation, int group, int? groupChannels, double offsetScale, bool removeCenter)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(offsetMask);
        var sampling = Dcnv3Params.Create(input, kernelSize, stride, padding, dilation, group, groupChannels, offsetScale, removeCenter);
        ShapeMath.RequireRank(nameof(offsetMask), offsetMask.ShapeSpan, 4, "[N, OutH, OutW, ⌈3·group·points/8⌉·8]");
        Functional.RequireSameDevice(nameof(offsetMask), input, offsetMask);
        var result = new Dcnv4Params(sampling, PackedLength(sampling.Group, sampling.Points));
        if (!offsetMask.ShapeSpan.SequenceEqual(result.OffsetMaskShape))
            throw new ArgumentException(
                $"offsetMask: expected shape {ShapeMath.Format(result.OffsetMaskShape)} (group {sampling.Group} × {sampling.Points} points × 3 = " +
                $"{3 * sampling.Group * sampling.Points} values per position, padded to a multiple of 8), got {ShapeMath.Format(offsetMask.ShapeSpan)}.",
                nameof(offsetMask));
        return result;
    }
}

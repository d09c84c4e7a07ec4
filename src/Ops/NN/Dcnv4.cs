namespace DeformEngine.NN;

/// <summary>DCNv4's layer (DCNv4_op/DCNv4/modules/dcnv4.py) on [N, L, C] tokens of an H×W map, with its state names:
/// x = <c>value_proj</c>(input) (skipped without pointwise) as [N, H, W, C]; offset_mask =
/// <c>offset_mask</c>(input, or <c>offset_mask_dw</c>(input) — a depthwise Conv2d — when dwKernelSize is given), a
/// Linear to ⌈3·G·P/8⌉·8 values; y = <see cref="Functional.Dcnv4{T}"/>(x, offset_mask) (unnormalised weights, no
/// softmax); with center_feature_scale, s = σ(y·Wᵀ + b) per group (the published layer feeds y itself) and
/// y = y·(1 − s) + x·s; out = <c>output_proj</c>(y) as [N, L, C] (skipped without pointwise).
/// Initialisation as its _reset_parameters: <c>offset_mask</c> zero, the projections Xavier-uniform with zero bias.
/// The published layer asserts 16 | C/G for its CUDA kernel; the CPU needs no such rule.</summary>
public sealed class Dcnv4<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Dcnv4(int channels = 64, int kernelSize = 3, int stride = 1, int pad = 1, int dilation = 1, int group = 4,
        double offsetScale = 1.0, int? dwKernelSize = null, bool centerFeatureScale = false, bool removeCenter = false,
        bool outputBias = true, bool withoutPointwise = false, SeededRandom? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(group);
        if (channels % group != 0)
            throw new ArgumentException($"channels: must be divisible by group, got {channels} and {group}.", nameof(channels));
        if (removeCenter && kernelSize % 2 == 0)
            throw new ArgumentException($"removeCenter: only an odd kernel has a centre to remove, got kernelSize {kernelSize}.", nameof(removeCenter));
        if (dwKernelSize is { } dwSize) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dwSize, nameof(dwKernelSize));
        random ??= Init.DefaultRandom;
        Channels = channels;
        KernelSize = kernelSize;
        Stride = stride;
        Pad = pad;
        Dilation = dilation;
        Group = group;
        OffsetScale = offsetScale;
        RemoveCenter = removeCenter;
        int points = kernelSize * kernelSize - (removeCenter ? 1 : 0);
        if (centerFeatureScale)
        {
            CenterFeatureScaleWeight = RegisterParameter("center_feature_scale_proj_weight", Tensor<T>.Zeros(group, channels));
            CenterFeatureScaleBias = RegisterParameter("center_feature_scale_proj_bias", Tensor<T>.Zeros(group));
        }
        if (dwKernelSize is { } dw)
            OffsetMaskDw = RegisterModule("offset_mask_dw", new Conv2d<T>(channels, channels, dw, padding: (dw - 1) / 2, groups: channels, random: random));
        OffsetMaskProjection = RegisterModule("offset_mask", new Linear<T>(channels, Dcnv4Params.PackedLength(group, points), random: random));
        if (!withoutPointwise)
        {
            ValueProjection = RegisterModule("value_proj", new Linear<T>(channels, channels, random: random));
            OutputProjection = RegisterModule("output_proj", new Linear<T>(channels, channels, bias: outputBias, random: random));
        }
        ResetParameters(random);
    }

    public int Channels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public int Pad { get; }
    public int Dilation { get; }
    public int Group { get; }
    public double OffsetScale { get; }
    public bool RemoveCenter { get; }
    public int GroupChannels => Channels / Group;
    public Conv2d<T>? OffsetMaskDw { get; }
    public Linear<T> OffsetMaskProjection { get; }
    public Linear<T>? ValueProjection { get; }
    public Linear<T>? OutputProjection { get; }
    public Parameter<T>? CenterFeatureScaleWeight { get; }
    public Parameter<T>? CenterFeatureScaleBias { get; }

    /// <summary>The published _reset_parameters.</summary>
    private void ResetParameters(SeededRandom random)
    {
        OffsetMaskProjection.Weight.AsSpan().Clear();
        OffsetMaskProjection.Bias!.AsSpan().Clear();
        if (ValueProjection is null) return;
        Init.XavierUniform<T>(random, ValueProjection.Weight.Shape).AsSpan().CopyTo(ValueProjection.Weight.AsSpan());
        ValueProjection.Bias!.AsSpan().Clear();
        Init.XavierUniform<T>(random, OutputProjection!.Weight.Shape).AsSpan().CopyTo(OutputProjection.Weight.AsSpan());
        OutputProjection.Bias?.AsSpan().Clear();
    }

    /// <summary>[N, L, C] tokens of a square map (H = W = √L, as the published layer assumes without a shape).</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 3, "[N, L, C]");
        int side = (int)Math.Round(Math.Sqrt(input.Dim(1)));
        if (side * side != input.Dim(1))
            throw new ArgumentException(
                $"input: {input.Dim(1)} tokens are not a square map; pass the map's (H, W) to Forward(input, shape).", nameof(input));
        return Forward(input, (side, side));
    }

    /// <summary>[N, L, C] tokens of an H×W map (L = H·W) → [N, L, C].</summary>
    public Tensor<T> Forward(Tensor<T> input, (int H, int W) shape)
    {
        ArgumentNullException.ThrowIfNull(input);
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 3, "[N, L, C]");
        int n = input.Dim(0), tokens = input.Dim(1);
        if (input.Dim(2) != Channels)
            throw new ArgumentException($"input: expected {Channels} channels in the last dimension, got shape {ShapeMath.Format(input.ShapeSpan)}.", nameof(input));
        if (shape.H < 1 || shape.W < 1 || shape.H * shape.W != tokens)
            throw new ArgumentException($"shape: expected H·W = {tokens} tokens, got ({shape.H}, {shape.W}).", nameof(shape));
        var x = (ValueProjection?.Forward(input) ?? input).Reshape(n, shape.H, shape.W, Channels);
        var offsetMaskInput = OffsetMaskDw is null
            ? input
            : OffsetMaskDw.Forward(input.Reshape(n, shape.H, shape.W, Channels).Permute(0, 3, 1, 2)).Permute(0, 2, 3, 1).Reshape(n, tokens, Channels);
        var offsetMask = OffsetMaskProjection.Forward(offsetMaskInput).Reshape(n, shape.H, shape.W, -1);
        var y = Functional.Dcnv4(x, offsetMask, (KernelSize, KernelSize), (Stride, Stride), (Pad, Pad), (Dilation, Dilation), Group,
            GroupChannels, OffsetScale, RemoveCenter);
        if (CenterFeatureScaleWeight is not null)
            y = Dcnv3<T>.CenterFeatureScaleMix(y, x, y, CenterFeatureScaleWeight, CenterFeatureScaleBias!, Group);
        y = y.Reshape(n, tokens, -1);
        return OutputProjection?.Forward(y) ?? y;
    }
}

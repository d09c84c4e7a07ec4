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
    /// <summary>A DCNv4 layer of <paramref name="channels"/> channels, initialised as the published layer.</summary>
    /// <param name="channels">C, the last dimension of the [N, L, C] input and output.</param>
    /// <param name="kernelSize">k of the k×k sampling kernel.</param>
    /// <param name="stride">Stride of the sampling.</param>
    /// <param name="pad">Padding of the sampling.</param>
    /// <param name="dilation">Dilation of the sampling.</param>
    /// <param name="group">G, groups of C/G channels with their own offsets and weights.</param>
    /// <param name="offsetScale">Factor applied to every predicted offset.</param>
    /// <param name="dwKernelSize">Kernel of a depthwise convolution before <c>offset_mask</c>; null for none.</param>
    /// <param name="centerFeatureScale">Blend the output with the value projection by a learned per-group gate.</param>
    /// <param name="removeCenter">Drop the kernel's centre point (odd kernels only).</param>
    /// <param name="outputBias">Give <c>output_proj</c> a bias.</param>
    /// <param name="withoutPointwise">Skip <c>value_proj</c> and <c>output_proj</c>.</param>
    /// <param name="random">Generator of the initial values; null for the shared default generator.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive channel count, kernel size, group count or
    /// depthwise kernel.</exception>
    /// <exception cref="ArgumentException"><paramref name="group"/> does not divide <paramref name="channels"/>, or
    /// removeCenter with an even kernel.</exception>
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

    /// <summary>C, the channels of the input and output.</summary>
    public int Channels { get; }
    /// <summary>k of the k×k sampling kernel.</summary>
    public int KernelSize { get; }
    /// <summary>Stride of the sampling, both directions.</summary>
    public int Stride { get; }
    /// <summary>Padding of the sampling, both directions.</summary>
    public int Pad { get; }
    /// <summary>Dilation of the sampling, both directions.</summary>
    public int Dilation { get; }
    /// <summary>G, the number of groups with their own offsets and weights.</summary>
    public int Group { get; }
    /// <summary>Factor applied to every predicted offset.</summary>
    public double OffsetScale { get; }
    /// <summary>True when the kernel's centre point is dropped.</summary>
    public bool RemoveCenter { get; }
    /// <summary>C/G, the channels of one group.</summary>
    public int GroupChannels => Channels / Group;
    /// <summary>The depthwise convolution before <c>offset_mask</c> (<c>offset_mask_dw</c>), or null without
    /// one.</summary>
    public Conv2d<T>? OffsetMaskDw { get; }
    /// <summary>C → ⌈3·G·P/8⌉·8 packed offsets and weights (<c>offset_mask</c>), zero-initialised.</summary>
    public Linear<T> OffsetMaskProjection { get; }
    /// <summary>C → C, the values sampled (<c>value_proj</c>), or null without pointwise projections.</summary>
    public Linear<T>? ValueProjection { get; }
    /// <summary>C → C, applied to the sampled result (<c>output_proj</c>), or null without pointwise
    /// projections.</summary>
    public Linear<T>? OutputProjection { get; }
    /// <summary>[G, C] weight of the centre-feature-scale gate, or null without it.</summary>
    public Parameter<T>? CenterFeatureScaleWeight { get; }
    /// <summary>[G] bias of the centre-feature-scale gate, or null without it.</summary>
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

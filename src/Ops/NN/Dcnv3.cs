namespace DeformEngine.NN;

/// <summary>InternImage's DCNv3 layer (ops_dcnv3/modules/dcnv3.py, norm 'LN', activation 'GELU') on channels-last
/// [N, H, W, C], with its state names, so its state dicts load by name:
/// x = input_proj(input); x1 = dw_conv(input as [N, C, H, W]) with dw_conv = depthwise Conv2d (dwKernelSize,
/// "same" padding) → to channels-last → LayerNorm(eps 1e-6) → GELU (names <c>dw_conv.0.*</c>, <c>dw_conv.1.1.*</c>);
/// offset = <c>offset</c>(x1); mask = softmax over each group's points of <c>mask</c>(x1);
/// y = <see cref="Functional.Dcnv3{T}"/>(x, offset, mask); with center_feature_scale,
/// s = σ(x1·Wᵀ + b) per group and y = y·(1 − s) + x·s; out = <c>output_proj</c>(y).
/// Initialisation as its _reset_parameters: <c>offset</c> and <c>mask</c> zero, the projections Xavier-uniform
/// with zero bias, the centre-feature-scale parameters zero, the depthwise convolution PyTorch's default.
/// The mask is computed at the input's resolution, so (as in the published layer) stride, padding and dilation
/// must keep the output the size of the input.</summary>
public sealed class Dcnv3<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A DCNv3 layer of <paramref name="channels"/> channels, initialised as the published layer.</summary>
    /// <param name="channels">C, the last dimension of the channels-last input and output.</param>
    /// <param name="kernelSize">k of the k×k sampling kernel.</param>
    /// <param name="dwKernelSize">Kernel of the depthwise convolution; null for <paramref name="kernelSize"/>.</param>
    /// <param name="stride">Stride of the sampling.</param>
    /// <param name="pad">Padding of the sampling.</param>
    /// <param name="dilation">Dilation of the sampling.</param>
    /// <param name="group">G, groups of C/G channels with their own offsets and mask.</param>
    /// <param name="offsetScale">Factor applied to every predicted offset.</param>
    /// <param name="centerFeatureScale">Blend the output with the input projection by a learned per-group gate.</param>
    /// <param name="removeCenter">Drop the kernel's centre point (odd kernels only).</param>
    /// <param name="random">Generator of the initial values; null for the shared default generator.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive channel count, kernel size or group
    /// count.</exception>
    /// <exception cref="ArgumentException"><paramref name="group"/> does not divide <paramref name="channels"/>, or
    /// removeCenter with an even kernel.</exception>
    public Dcnv3(int channels = 64, int kernelSize = 3, int? dwKernelSize = null, int stride = 1, int pad = 1, int dilation = 1,
        int group = 4, double offsetScale = 1.0, bool centerFeatureScale = false, bool removeCenter = false, SeededRandom? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(group);
        if (channels % group != 0)
            throw new ArgumentException($"channels: must be divisible by group, got {channels} and {group}.", nameof(channels));
        if (removeCenter && kernelSize % 2 == 0)
            throw new ArgumentException($"removeCenter: only an odd kernel has a centre to remove, got kernelSize {kernelSize}.", nameof(removeCenter));
        random ??= Init.DefaultRandom;
        int dw = dwKernelSize ?? kernelSize;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dw, nameof(dwKernelSize));
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
        DwConv = RegisterModule("dw_conv", new Sequential<T>(
            new Conv2d<T>(channels, channels, dw, padding: (dw - 1) / 2, groups: channels, random: random),
            new Sequential<T>(new ToChannelsLast<T>(), new LayerNorm<T>(channels, eps: 1e-6)),
            new Gelu<T>()));
        OffsetProjection = RegisterModule("offset", new Linear<T>(channels, group * points * 2, random: random));
        MaskProjection = RegisterModule("mask", new Linear<T>(channels, group * points, random: random));
        InputProjection = RegisterModule("input_proj", new Linear<T>(channels, channels, random: random));
        OutputProjection = RegisterModule("output_proj", new Linear<T>(channels, channels, random: random));
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
    /// <summary>G, the number of groups with their own offsets and mask.</summary>
    public int Group { get; }
    /// <summary>Factor applied to every predicted offset.</summary>
    public double OffsetScale { get; }
    /// <summary>True when the kernel's centre point is dropped.</summary>
    public bool RemoveCenter { get; }
    /// <summary>C/G, the channels of one group.</summary>
    public int GroupChannels => Channels / Group;
    /// <summary>The depthwise convolution, LayerNorm and GELU that feed the offset and mask projections
    /// (<c>dw_conv</c>).</summary>
    public Sequential<T> DwConv { get; }
    /// <summary>C → G·P·2 offsets (<c>offset</c>), zero-initialised.</summary>
    public Linear<T> OffsetProjection { get; }
    /// <summary>C → G·P mask logits (<c>mask</c>), zero-initialised.</summary>
    public Linear<T> MaskProjection { get; }
    /// <summary>C → C, the values sampled (<c>input_proj</c>).</summary>
    public Linear<T> InputProjection { get; }
    /// <summary>C → C, applied to the sampled result (<c>output_proj</c>).</summary>
    public Linear<T> OutputProjection { get; }
    /// <summary>[G, C] weight of the centre-feature-scale gate, or null without it.</summary>
    public Parameter<T>? CenterFeatureScaleWeight { get; }
    /// <summary>[G] bias of the centre-feature-scale gate, or null without it.</summary>
    public Parameter<T>? CenterFeatureScaleBias { get; }

    /// <summary>The published _reset_parameters.</summary>
    private void ResetParameters(SeededRandom random)
    {
        OffsetProjection.Weight.AsSpan().Clear();
        OffsetProjection.Bias!.AsSpan().Clear();
        MaskProjection.Weight.AsSpan().Clear();
        MaskProjection.Bias!.AsSpan().Clear();
        Init.XavierUniform<T>(random, InputProjection.Weight.Shape).AsSpan().CopyTo(InputProjection.Weight.AsSpan());
        InputProjection.Bias!.AsSpan().Clear();
        Init.XavierUniform<T>(random, OutputProjection.Weight.Shape).AsSpan().CopyTo(OutputProjection.Weight.AsSpan());
        OutputProjection.Bias!.AsSpan().Clear();
    }

    /// <summary>[N, H, W, C] → [N, H, W, C].</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 4, "[N, H, W, C] (channels last)");
        int n = input.Dim(0), h = input.Dim(1), w = input.Dim(2);
        if (input.Dim(3) != Channels)
            throw new ArgumentException($"input: expected {Channels} channels in the last dimension, got shape {ShapeMath.Format(input.ShapeSpan)}.", nameof(input));
        var x = InputProjection.Forward(input);
        var x1 = DwConv.Forward(input.Permute(0, 3, 1, 2));
        var offset = OffsetProjection.Forward(x1);
        var mask = MaskProjection.Forward(x1).Reshape(n, h, w, Group, -1).Softmax(-1).Reshape(n, h, w, -1);
        var y = Functional.Dcnv3(x, offset, mask, (KernelSize, KernelSize), (Stride, Stride), (Pad, Pad), (Dilation, Dilation), Group,
            GroupChannels, OffsetScale, RemoveCenter);
        if (CenterFeatureScaleWeight is not null)
            y = CenterFeatureScaleMix(y, x, x1, CenterFeatureScaleWeight, CenterFeatureScaleBias!, Group);
        return OutputProjection.Forward(y);
    }

    /// <summary>y·(1 − s) + projected·s with s = σ(query·Wᵀ + b) [N, H, W, G] shared by the Cg channels of each group.</summary>
    internal static Tensor<T> CenterFeatureScaleMix(Tensor<T> y, Tensor<T> projected, Tensor<T> query, Parameter<T> weight,
        Parameter<T> bias, int group)
    {
        var shape = y.Shape;
        int[] grouped = [shape[0], shape[1], shape[2], group, shape[3] / group];
        var scale = Functional.Linear(query, weight.Value, bias.Value).Sigmoid().Reshape(shape[0], shape[1], shape[2], group, 1);
        var mixed = y.Reshape(grouped).Mul(scale.Neg().AddScalar(T.One)).Add(projected.Reshape(grouped).Mul(scale));
        return mixed.Reshape(shape);
    }
}

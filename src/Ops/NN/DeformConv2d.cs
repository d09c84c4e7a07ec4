namespace DeformEngine.NN;

/// <summary>A deformable convolution that predicts its own offsets (DCNv1) and, with
/// <c>modulation</c>, its modulation masks (DCNv2), the layer of the well-known PyTorch
/// implementation (<c>inc, outc, kernel_size = 3, padding = 1, stride = 1, bias, modulation</c>)
/// with torchvision/mmcv's dilation, groups and offset groups.
/// <para>The branch <c>conv_offset</c> is a convolution with this layer's kernel, stride, padding and
/// dilation producing 2·G·kh·kw offset channels (+ G·kh·kw mask channels with modulation), its
/// weight and bias zero-initialised: training starts as a plain convolution (offsets 0, masks
/// σ(0) = 0.5). Its output is split as mmcv's ModulatedDeformConv2dPack does: the first 2·G·kh·kw
/// channels are the offsets (torchvision layout, dy before dx per kernel point), the rest go through
/// a sigmoid to become the masks. The state names are mmcv's: <c>weight</c>, <c>bias</c>,
/// <c>conv_offset.weight</c>, <c>conv_offset.bias</c>, so DCNv2 (ModulatedDeformConv2dPack) and
/// DCNv1 (DeformConv2dPack) weights load by name; torchvision's DeformConv2d holds only
/// <c>weight</c>/<c>bias</c>.</para></summary>
public sealed class DeformConv2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="inc">Input channels.</param>
    /// <param name="outc">Output channels.</param>
    /// <param name="kernelSize">Kernel size; null means 3.</param>
    /// <param name="padding">Zero padding; null means 1.</param>
    /// <param name="stride">Stride; null means 1.</param>
    /// <param name="bias">Whether the main convolution has a bias.</param>
    /// <param name="modulation">DCNv2: predict a sigmoid mask per sampling point.</param>
    /// <param name="dilation">Dilation; null means 1.</param>
    /// <param name="groups">Groups of the main convolution.</param>
    /// <param name="offsetGroups">Offset groups G (mmcv's deform_groups): input channel c uses offset group c / (inc/G).</param>
    /// <param name="random">Generator of the main weight's init; null means <see cref="Init.DefaultRandom"/>.</param>
    public DeformConv2d(int inc, int outc, Size2? kernelSize = null, Size2? padding = null, Size2? stride = null,
        bool bias = false, bool modulation = false, Size2? dilation = null, int groups = 1, int offsetGroups = 1,
        SeededRandom? random = null)
    {
        var kernel = kernelSize ?? 3;
        ConvShape.Check(inc, outc, kernel, stride, padding, dilation, groups);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(offsetGroups);
        if (inc % offsetGroups != 0)
            throw new ArgumentException($"offsetGroups: inc ({inc}) must be divisible by offsetGroups ({offsetGroups}).", nameof(offsetGroups));
        random ??= Init.DefaultRandom;
        InChannels = inc;
        OutChannels = outc;
        KernelSize = kernel;
        Padding = padding ?? 1;
        Stride = stride ?? 1;
        Dilation = dilation ?? 1;
        Groups = groups;
        OffsetGroups = offsetGroups;
        Modulation = modulation;

        // The main weight is drawn exactly as Conv2d draws it, so a model built with DeformConv2d in
        // place of Conv2d from the same seed starts from the same weights.
        int[] weightShape = [outc, inc / groups, kernel.H, kernel.W];
        Weight = RegisterParameter("weight", Init.DefaultWeight<T>(random, weightShape));
        if (bias) Bias = RegisterParameter("bias", Init.Uniform<T>(random, 1 / Math.Sqrt(Init.FanIn(weightShape)), outc));

        OffsetChannels = 2 * offsetGroups * kernel.H * kernel.W;
        int branchChannels = OffsetChannels + (modulation ? offsetGroups * kernel.H * kernel.W : 0);
        // The branch gets a generator of its own because its random init is replaced by zeros: it must
        // not consume draws from the caller's generator.
        ConvOffset = RegisterModule("conv_offset",
            new Conv2d<T>(inc, branchChannels, kernel, Stride, Padding, Dilation, random: new SeededRandom(0)));
        ConvOffset.Weight.AsSpan().Clear();
        ConvOffset.Bias!.AsSpan().Clear();
    }

    /// <summary>C, the input's channels.</summary>
    public int InChannels { get; }
    /// <summary>O, the output's channels.</summary>
    public int OutChannels { get; }
    /// <summary>(kh, kw), shared by the main convolution and <see cref="ConvOffset"/>.</summary>
    public Size2 KernelSize { get; }
    /// <summary>Zero padding on each side (pH, pW), shared with <see cref="ConvOffset"/>.</summary>
    public Size2 Padding { get; }
    /// <summary>(sH, sW), shared with <see cref="ConvOffset"/>.</summary>
    public Size2 Stride { get; }
    /// <summary>Spacing of the kernel taps (dH, dW), shared with <see cref="ConvOffset"/>.</summary>
    public Size2 Dilation { get; }
    /// <summary>Channel groups of the main convolution.</summary>
    public int Groups { get; }
    /// <summary>G: groups of input channels that share one offset (and mask) field.</summary>
    public int OffsetGroups { get; }
    /// <summary>True for DCNv2: <see cref="ConvOffset"/> also predicts a sigmoid mask per sampling point.</summary>
    public bool Modulation { get; }

    /// <summary>2·G·kh·kw: the offset channels at the front of <see cref="ConvOffset"/>'s output.</summary>
    public int OffsetChannels { get; }

    /// <summary>[O, C/groups, kh, kw] (<c>weight</c>).</summary>
    public Parameter<T> Weight { get; }
    /// <summary>[O] (<c>bias</c>), or null without a bias.</summary>
    public Parameter<T>? Bias { get; }

    /// <summary>The offset (and mask) branch, named <c>conv_offset</c>.</summary>
    public Conv2d<T> ConvOffset { get; }

    /// <summary>The parameters of the offset and mask branch, for a parameter group of their own
    /// (the DCN papers train them at 0.1× the learning rate).</summary>
    public IEnumerable<Parameter<T>> OffsetParameters => ConvOffset.Parameters();

    /// <summary>The offsets [N, 2·G·kh·kw, Hout, Wout] of the last forward (no history).</summary>
    public Tensor<T>? LastOffset { get; private set; }

    /// <summary>The masks [N, G·kh·kw, Hout, Wout] of the last forward with modulation (no history).</summary>
    public Tensor<T>? LastMask { get; private set; }

    /// <summary>[N, C, H, W] → [N, O, OutH, OutW]: offsets (and masks) from <see cref="ConvOffset"/>, then
    /// <see cref="Functional.DeformConv2d{T}"/>; keeps them in <see cref="LastOffset"/> and
    /// <see cref="LastMask"/>.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var branch = ConvOffset.Forward(input);
        Tensor<T> offset;
        Tensor<T>? mask = null;
        if (Modulation)
        {
            offset = branch.Slice(1, 0, OffsetChannels);
            mask = branch.Slice(1, OffsetChannels, branch.Dim(1) - OffsetChannels).Sigmoid();
        }
        else
        {
            offset = branch;
        }
        LastOffset = offset.Detach();
        LastMask = mask?.Detach();
        return Functional.DeformConv2d(input, offset, Weight, Bias?.Value, Stride, Padding, Dilation, mask);
    }
}

namespace DeformEngine.NN;

/// <summary>2-D convolution with <c>weight</c> [out, in/groups, kh, kw] and optional <c>bias</c>
/// [out], PyTorch's default init U(−1/√fanIn, 1/√fanIn) for both.</summary>
public sealed class Conv2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A convolution of <paramref name="inChannels"/> into <paramref name="outChannels"/> channels with
    /// freshly initialised weights.</summary>
    /// <param name="inChannels">C, the input's channels.</param>
    /// <param name="outChannels">O, the output's channels.</param>
    /// <param name="kernelSize">(kh, kw), or one int for both.</param>
    /// <param name="stride">Null for 1.</param>
    /// <param name="padding">Zero padding on each side; null for 0.</param>
    /// <param name="dilation">Null for 1.</param>
    /// <param name="groups">Channel groups; must divide C and O.</param>
    /// <param name="bias">Learn a bias [O].</param>
    /// <param name="random">The generator of the initial values; null for the shared default generator.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive channel count, group count, kernel size, stride or
    /// dilation, or negative padding.</exception>
    /// <exception cref="ArgumentException"><paramref name="groups"/> does not divide both channel counts.</exception>
    public Conv2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        Size2? dilation = null, int groups = 1, bool bias = true, SeededRandom? random = null)
    {
        ConvShape.Check(inChannels, outChannels, kernelSize, stride, padding, dilation, groups);
        random ??= Init.DefaultRandom;
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        Dilation = dilation ?? 1;
        Groups = groups;
        int[] weightShape = [outChannels, inChannels / groups, kernelSize.H, kernelSize.W];
        Weight = RegisterParameter("weight", Init.DefaultWeight<T>(random, weightShape));
        if (bias) Bias = RegisterParameter("bias", Init.Uniform<T>(random, 1 / Math.Sqrt(Init.FanIn(weightShape)), outChannels));
    }

    /// <summary>C, the input's channels.</summary>
    public int InChannels { get; }
    /// <summary>O, the output's channels.</summary>
    public int OutChannels { get; }
    /// <summary>(kh, kw).</summary>
    public Size2 KernelSize { get; }
    /// <summary>(sH, sW).</summary>
    public Size2 Stride { get; }
    /// <summary>Zero padding on each side (pH, pW).</summary>
    public Size2 Padding { get; }
    /// <summary>Spacing of the kernel taps (dH, dW).</summary>
    public Size2 Dilation { get; }
    /// <summary>Channel groups.</summary>
    public int Groups { get; }
    /// <summary>[O, C/groups, kh, kw] (<c>weight</c>).</summary>
    public Parameter<T> Weight { get; }
    /// <summary>[O] (<c>bias</c>), or null without a bias.</summary>
    public Parameter<T>? Bias { get; }

    /// <summary>[N, C, H, W] → [N, O, OutH, OutW]; see <see cref="Functional.Conv2d{T}"/>.</summary>
    public override Tensor<T> Forward(Tensor<T> input) =>
        Functional.Conv2d(input, Weight, Bias?.Value, Stride, Padding, Dilation, Groups);
}

/// <summary>Checks of the constructor arguments shared by the convolution modules.</summary>
internal static class ConvShape
{
    public static void Check(int inChannels, int outChannels, Size2 kernelSize, Size2? stride, Size2? padding, Size2? dilation, int groups)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groups);
        if (kernelSize.H < 1 || kernelSize.W < 1)
            throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, $"kernelSize: expected positive sizes, got {kernelSize}.");
        if (stride is { } s && (s.H < 1 || s.W < 1))
            throw new ArgumentOutOfRangeException(nameof(stride), s, $"stride: expected positive values, got {s}.");
        if (padding is { } p && (p.H < 0 || p.W < 0))
            throw new ArgumentOutOfRangeException(nameof(padding), p, $"padding: expected non-negative values, got {p}.");
        if (dilation is { } d && (d.H < 1 || d.W < 1))
            throw new ArgumentOutOfRangeException(nameof(dilation), d, $"dilation: expected positive values, got {d}.");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException(
                $"groups: inChannels ({inChannels}) and outChannels ({outChannels}) must both be divisible by groups ({groups}).", nameof(groups));
    }
}

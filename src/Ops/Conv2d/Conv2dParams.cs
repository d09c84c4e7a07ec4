namespace DeformEngine;

/// <summary>Shape of a 2-D convolution over an [N, C, H, W] input with an [O, C/groups, kh, kw] weight:
/// OutH = ⌊(H + 2·padH − dilH·(kh−1) − 1) / strideH⌋ + 1 (OutW likewise).</summary>
public sealed record Conv2dParams(
    int Batch, int InChannels, int Height, int Width, int OutChannels, int KernelH, int KernelW,
    (int H, int W) Stride, (int H, int W) Padding, (int H, int W) Dilation, int Groups)
{
    /// <summary>Output height ⌊(Height + 2·Padding.H − Dilation.H·(KernelH − 1) − 1) / Stride.H⌋ + 1, 0 when the
    /// dilated kernel does not fit.</summary>
    public int OutH { get; } = OutSize(Height, KernelH, Stride.H, Padding.H, Dilation.H);
    /// <summary>Output width ⌊(Width + 2·Padding.W − Dilation.W·(KernelW − 1) − 1) / Stride.W⌋ + 1, 0 when the dilated
    /// kernel does not fit.</summary>
    public int OutW { get; } = OutSize(Width, KernelW, Stride.W, Padding.W, Dilation.W);

    /// <summary>Rows of the column matrix: one per (input channel, kernel row, kernel column).</summary>
    public int ColumnRows => InChannels * KernelH * KernelW;

    /// <summary>Columns of the column matrix: one per output position.</summary>
    public int ColumnCols => OutH * OutW;

    /// <summary>Clamped to int: <see cref="Create{T}"/> rejects a length that does not fit an array.</summary>
    private static int OutSize(int size, int kernel, int stride, int padding, int dilation) =>
        (int)Math.Min(OutLength(size, kernel, stride, padding, dilation), int.MaxValue);

    /// <summary>The output length in 64 bits, 0 when the dilated kernel does not fit the padded input
    /// (a floor, as PyTorch: C#'s division would round −1/2 up to 0 and accept one output too many).</summary>
    internal static long OutLength(int size, int kernel, int stride, int padding, int dilation)
    {
        long span = size + 2L * padding - (long)dilation * (kernel - 1) - 1;
        return span < 0 ? 0 : span / stride + 1;
    }

    /// <summary>Checks the weight, bias and hyper-parameters of a (deformable) convolution and
    /// returns its geometry; <paramref name="groups"/> null means it is inferred from the weight.</summary>
    internal static Conv2dParams Create<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias,
        (int H, int W)? stride, (int H, int W)? padding, (int H, int W)? dilation, int? groups)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 4, "[N, C, H, W]");
        ShapeMath.RequireRank(nameof(weight), weight.ShapeSpan, 4, "[C_out, C_in/groups, kh, kw]");
        Functional.RequireSameDevice(nameof(weight), input, weight);
        Functional.RequireSameDevice(nameof(bias), input, bias);
        var s = stride ?? (1, 1);
        var p = padding ?? (0, 0);
        var d = dilation ?? (1, 1);
        if (s.H < 1 || s.W < 1)
            throw new ArgumentOutOfRangeException(nameof(stride), s, $"stride must be positive, got ({s.H}, {s.W}).");
        if (p.H < 0 || p.W < 0)
            throw new ArgumentOutOfRangeException(nameof(padding), p, $"padding must be non-negative, got ({p.H}, {p.W}).");
        if (d.H < 1 || d.W < 1)
            throw new ArgumentOutOfRangeException(nameof(dilation), d, $"dilation must be positive, got ({d.H}, {d.W}).");

        var x = input.ShapeArray;
        var wt = weight.ShapeArray;
        if (wt[1] < 1 || wt[2] < 1 || wt[3] < 1)
            throw new ArgumentException($"weight: kernel and channel dimensions must be positive, got {ShapeMath.Format(wt)}.", nameof(weight));
        int g = groups ?? (x[1] % wt[1] == 0 ? x[1] / wt[1] : -1);
        if (g < 1 || x[1] != (long)wt[1] * g)
            throw new ArgumentException(
                $"weight: input has {x[1]} channels, which is not weight.shape[1] ({wt[1]}) × groups" +
                (groups is null ? " for any whole number of groups" : $" ({groups})") + $"; weight shape {ShapeMath.Format(wt)}.", nameof(weight));
        if (wt[0] % g != 0)
            throw new ArgumentException(
                $"weight: output channels ({wt[0]}) must be divisible by groups ({g}); weight shape {ShapeMath.Format(wt)}.", nameof(weight));
        if (bias is not null)
            ShapeMath.RequireShape(nameof(bias), bias.ShapeSpan, [wt[0]]);

        var result = new Conv2dParams(x[0], x[1], x[2], x[3], wt[0], wt[2], wt[3], s, p, d, g);
        if (result.OutH < 1 || result.OutW < 1)
            throw new ArgumentException(
                $"input: a {x[2]}×{x[3]} image with padding ({p.H}, {p.W}), dilation ({d.H}, {d.W}) and a {wt[2]}×{wt[3]} kernel gives an output of {result.OutH}×{result.OutW}; expected at least 1×1.", nameof(input));
        // Sizes past an array: padding is what inflates an output beyond its input, so it is named when set.
        long outH = OutLength(x[2], wt[2], s.H, p.H, d.H), outW = OutLength(x[3], wt[3], s.W, p.W, d.W);
        string inflating = p == (0, 0) ? nameof(input) : nameof(padding);
        OpArgs.ElementCount(inflating,
            $"a {x[2]}×{x[3]} image with padding ({p.H}, {p.W}) gives an output of {outH}×{outW}, and the output", x[0], wt[0], outH, outW);
        OpArgs.ElementCount(nameof(input),
            $"one image's column matrix (C·kh·kw rows × OutH·OutW columns, the im2col of a {x[2]}×{x[3]} image with padding ({p.H}, {p.W}))",
            result.ColumnRows, (long)result.ColumnCols);
        return result;
    }
}

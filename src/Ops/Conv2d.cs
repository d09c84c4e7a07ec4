using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>Shape of a 2-D convolution over an [N, C, H, W] input with an [O, C/groups, kh, kw] weight:
/// OutH = ⌊(H + 2·padH − dilH·(kh−1) − 1) / strideH⌋ + 1 (OutW likewise).</summary>
public sealed record Conv2dParams(
    int Batch, int InChannels, int Height, int Width, int OutChannels, int KernelH, int KernelW,
    (int H, int W) Stride, (int H, int W) Padding, (int H, int W) Dilation, int Groups)
{
    public int OutH { get; } = OutSize(Height, KernelH, Stride.H, Padding.H, Dilation.H);
    public int OutW { get; } = OutSize(Width, KernelW, Stride.W, Padding.W, Dilation.W);

    /// <summary>Rows of the column matrix: one per (input channel, kernel row, kernel column).</summary>
    public int ColumnRows => InChannels * KernelH * KernelW;

    /// <summary>Columns of the column matrix: one per output position.</summary>
    public int ColumnCols => OutH * OutW;

    private static int OutSize(int size, int kernel, int stride, int padding, int dilation) =>
        (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;

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
        if (g < 1 || x[1] != wt[1] * g)
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
        return result;
    }
}

/// <summary>2-D convolution (cross-correlation) as im2col + GEMM per image and group:
/// out[n, o] = Σ_{c,i,j} weight[o, c, i, j] · input[n, c, y·s − p + i·d, x·s − p + j·d] + bias[o].
/// Gradients: ∂L/∂W = ∂L/∂out · columnsᵀ, ∂L/∂columns = Wᵀ · ∂L/∂out scattered back by col2im,
/// ∂L/∂bias = Σ_{n,y,x} ∂L/∂out.</summary>
public static partial class Functional
{
    public static Tensor<T> Conv2d<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias = null,
        (int H, int W)? stride = null, (int H, int W)? padding = null, (int H, int W)? dilation = null, int groups = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (groups < 1) throw new ArgumentOutOfRangeException(nameof(groups), groups, "groups must be at least 1.");
        var cp = Conv2dParams.Create(input, weight, bias, stride, padding, dilation, groups);
        if (!input.Device.IsCpu) return Conv2dOnDevice(cp, input, weight, bias);
        var src = input.CpuData;
        var w = weight.CpuData;
        var columns = new T[cp.ColumnRows * cp.ColumnCols];
        var result = new T[cp.Batch * cp.OutChannels * cp.ColumnCols];
        int imageSize = cp.InChannels * cp.Height * cp.Width;
        for (int n = 0; n < cp.Batch; n++)
        {
            Conv2dKernels.Im2Col(cp, src.AsSpan(n * imageSize, imageSize), columns);
            ConvGemm.Forward(cp.Groups, cp.OutChannels, cp.ColumnRows, cp.ColumnCols, w, columns,
                result.AsSpan(n * cp.OutChannels * cp.ColumnCols, cp.OutChannels * cp.ColumnCols));
        }
        if (bias is not null) ConvGemm.AddBias(bias.CpuData, result, cp.Batch, cp.ColumnCols);

        var output = Tensor<T>.Wrap(result, cp.Batch, cp.OutChannels, cp.OutH, cp.OutW);
        return Autograd.Record(output, "Conv2d", (grad, needs) =>
        {
            var g = grad.CpuData;
            var gradInput = needs[0] ? new T[src.Length] : null;
            var gradWeight = needs[1] ? new T[w.Length] : null;
            var gradColumns = new T[columns.Length];
            for (int n = 0; n < cp.Batch; n++)
            {
                var gradOut = g.AsSpan(n * cp.OutChannels * cp.ColumnCols, cp.OutChannels * cp.ColumnCols);
                if (gradWeight is not null)
                {
                    Conv2dKernels.Im2Col(cp, src.AsSpan(n * imageSize, imageSize), columns);
                    ConvGemm.GradWeight(cp.Groups, cp.OutChannels, cp.ColumnRows, cp.ColumnCols, gradOut, columns, gradWeight);
                }
                if (gradInput is not null)
                {
                    ConvGemm.GradColumns(cp.Groups, cp.OutChannels, cp.ColumnRows, cp.ColumnCols, w, gradOut, gradColumns);
                    Conv2dKernels.Col2Im(cp, gradColumns, gradInput.AsSpan(n * imageSize, imageSize));
                }
            }
            return [
                gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
                gradWeight is null ? null : Tensor<T>.Wrap(gradWeight, weight.ShapeArray),
                needs[2] ? Tensor<T>.Wrap(ConvGemm.GradBias(g, cp.Batch, cp.OutChannels, cp.ColumnCols), cp.OutChannels) : null];
        }, input, weight, bias);
    }
}

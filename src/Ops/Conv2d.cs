using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
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

/// <summary>2-D convolution (cross-correlation) as im2col + GEMM per image and group:
/// out[n, o] = Σ_{c,i,j} weight[o, c, i, j] · input[n, c, y·s − p + i·d, x·s − p + j·d] + bias[o].
/// Gradients: ∂L/∂W = ∂L/∂out · columnsᵀ, ∂L/∂columns = Wᵀ · ∂L/∂out scattered back by col2im,
/// ∂L/∂bias = Σ_{n,y,x} ∂L/∂out.
/// Two CPU paths compute this: the reference (<see cref="EngineOptions.UseReferenceKernels"/>) runs
/// <see cref="Conv2dKernels"/> image by image; the fast path runs <see cref="Conv2dFastKernels"/> on
/// chunks of images sized by <see cref="EngineOptions.WorkspaceBytes"/>, one GEMM per group and chunk,
/// and a 1×1 stride-1 unpadded convolution multiplies the input directly (no columns).</summary>
public static partial class Functional
{
    public static Tensor<T> Conv2d<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias = null,
        (int H, int W)? stride = null, (int H, int W)? padding = null, (int H, int W)? dilation = null, int groups = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (groups < 1) throw new ArgumentOutOfRangeException(nameof(groups), groups, "groups must be at least 1.");
        var cp = Conv2dParams.Create(input, weight, bias, stride, padding, dilation, groups);
        if (!input.Device.IsCpu) return Conv2dOnDevice(cp, input, weight, bias);
        return EngineOptions.UseReferenceKernels
            ? Conv2dReference(cp, input, weight, bias)
            : Conv2dFast(cp, input, weight, bias);
    }

    private static Tensor<T> Conv2dReference<T>(Conv2dParams cp, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
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

    /// <summary>A 1×1 kernel with stride 1 and no padding: the input image [C, H·W] is its own column matrix.</summary>
    private static bool IsPointwise(Conv2dParams cp) =>
        cp.KernelH == 1 && cp.KernelW == 1 && cp.Stride == (1, 1) && cp.Padding == (0, 0);

    /// <summary>Images per chunk so that the chunk's scratch (GEMM product [O, images·L] and the column
    /// matrices asked for, [C·kh·kw, images·L] each) stays within <see cref="EngineOptions.WorkspaceBytes"/>
    /// (at least one image; none for an empty batch); chunks of equal size but the last.</summary>
    internal static int Conv2dChunkImages(Conv2dParams cp, int elementSize, int columnMatrices)
    {
        long perImage = ((long)cp.OutChannels + (long)columnMatrices * cp.ColumnRows) * cp.ColumnCols * elementSize;
        int fit = (int)Math.Clamp(EngineOptions.WorkspaceBytes / perImage, 1, Math.Max(cp.Batch, 1));
        int chunks = (cp.Batch + fit - 1) / fit;
        return chunks == 0 ? 0 : (cp.Batch + chunks - 1) / chunks;
    }

    private static Tensor<T> Conv2dFast<T>(Conv2dParams cp, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var src = input.CpuData;
        var w = weight.CpuData;
        int L = cp.ColumnCols, outSize = cp.OutChannels * L, imageSize = cp.InChannels * cp.Height * cp.Width;
        var result = new T[cp.Batch * outSize];
        var biasData = bias is null ? default : bias.CpuData.AsSpan();
        if (IsPointwise(cp))
        {
            for (int n = 0; n < cp.Batch; n++)
            {
                var outN = result.AsSpan(n * outSize, outSize);
                ConvGemm.Forward(cp.Groups, cp.OutChannels, cp.ColumnRows, L, w, src.AsSpan(n * imageSize, imageSize), outN);
                for (int o = 0; o < biasData.Length; o++)
                    TensorPrimitives.Add(outN.Slice(o * L, L), biasData[o], outN.Slice(o * L, L));
            }
        }
        else
        {
            int chunkImages = Conv2dChunkImages(cp, Unsafe.SizeOf<T>(), 1);
            long productLength = (long)outSize * chunkImages;
            var scratch = ScratchArrays<T>.Rent(productLength + (long)cp.ColumnRows * L * chunkImages);
            try
            {
                for (int first = 0; first < cp.Batch; first += chunkImages)
                {
                    int images = Math.Min(chunkImages, cp.Batch - first);
                    var product = scratch.AsSpan(0, outSize * images);
                    Conv2dFastKernels.Im2Col(cp, src, first, images, scratch, (int)productLength);
                    ConvGemm.Forward(cp.Groups, cp.OutChannels, cp.ColumnRows, images * L, w,
                        scratch.AsSpan((int)productLength, cp.ColumnRows * L * images), product);
                    ConvGemm.FromChannelMajor<T>(product, biasData, first, images, cp.OutChannels, L, result);
                }
            }
            finally
            {
                ScratchArrays<T>.Return(scratch);
            }
        }

        var output = Tensor<T>.Wrap(result, cp.Batch, cp.OutChannels, cp.OutH, cp.OutW);
        return Autograd.Record(output, "Conv2d", (grad, needs) =>
        {
            var g = grad.CpuData;
            var gradInput = needs[0] ? new T[src.Length] : null;
            var gradWeight = needs[1] ? new T[w.Length] : null;
            if (gradInput is not null || gradWeight is not null)
                Conv2dFastBackward(cp, src, w, g, gradInput, gradWeight);
            return [
                gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
                gradWeight is null ? null : Tensor<T>.Wrap(gradWeight, weight.ShapeArray),
                needs[2] ? Tensor<T>.Wrap(ConvGemm.GradBiasVectorized<T>(g, cp.Batch, cp.OutChannels, cp.ColumnCols), cp.OutChannels) : null];
        }, input, weight, bias);
    }

    /// <summary>Per chunk: gradOut to [O, chunk·L]; gradWeight += gradOut · columnsᵀ (columns rebuilt by
    /// im2col); ∂L/∂columns = Wᵀ · gradOut scattered into the input by col2im. Pointwise: per image, on
    /// the input and its gradient directly.</summary>
    private static void Conv2dFastBackward<T>(Conv2dParams cp, T[] src, T[] w, T[] g, T[]? gradInput, T[]? gradWeight)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int L = cp.ColumnCols, outSize = cp.OutChannels * L, imageSize = cp.InChannels * cp.Height * cp.Width;
        if (IsPointwise(cp))
        {
            for (int n = 0; n < cp.Batch; n++)
            {
                var gradOut = g.AsSpan(n * outSize, outSize);
                if (gradWeight is not null)
                    ConvGemm.GradWeight(cp.Groups, cp.OutChannels, cp.ColumnRows, L, gradOut, src.AsSpan(n * imageSize, imageSize), gradWeight);
                if (gradInput is not null)
                    ConvGemm.GradColumns(cp.Groups, cp.OutChannels, cp.ColumnRows, L, w, gradOut, gradInput.AsSpan(n * imageSize, imageSize));
            }
            return;
        }
        int matrices = (gradInput is null ? 0 : 1) + (gradWeight is null ? 0 : 1);
        int chunkImages = Conv2dChunkImages(cp, Unsafe.SizeOf<T>(), matrices);
        int productLength = checked(outSize * chunkImages), columnLength = checked(cp.ColumnRows * L * chunkImages);
        int columnStart = productLength, gradColumnStart = productLength + (gradWeight is null ? 0 : columnLength);
        var scratch = ScratchArrays<T>.Rent((long)productLength + (long)matrices * columnLength);
        try
        {
            for (int first = 0; first < cp.Batch; first += chunkImages)
            {
                int images = Math.Min(chunkImages, cp.Batch - first), cols = images * L, length = cp.ColumnRows * cols;
                var product = scratch.AsSpan(0, outSize * images);
                ConvGemm.ToChannelMajor<T>(g, first, images, cp.OutChannels, L, product);
                if (gradWeight is not null)
                {
                    Conv2dFastKernels.Im2Col(cp, src, first, images, scratch, columnStart);
                    ConvGemm.GradWeight(cp.Groups, cp.OutChannels, cp.ColumnRows, cols, product,
                        scratch.AsSpan(columnStart, length), gradWeight);
                }
                if (gradInput is not null)
                {
                    ConvGemm.GradColumns(cp.Groups, cp.OutChannels, cp.ColumnRows, cols, w, product,
                        scratch.AsSpan(gradColumnStart, length));
                    Conv2dFastKernels.Col2Im(cp, scratch, gradColumnStart, first, images, gradInput);
                }
            }
        }
        finally
        {
            ScratchArrays<T>.Return(scratch);
        }
    }
}

using System.Runtime.CompilerServices;
using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>Geometry of a deformable convolution: a regular convolution's shape plus
/// <see cref="OffsetGroups"/> groups of input channels that share one offset (and mask) field.</summary>
public sealed record DeformConv2dParams(Conv2dParams Conv, int OffsetGroups, bool HasMask)
{
    public int KernelPoints => Conv.KernelH * Conv.KernelW;

    /// <summary>Input channels per offset group.</summary>
    public int ChannelsPerOffsetGroup => Conv.InChannels / OffsetGroups;

    public int[] OffsetShape => [Conv.Batch, 2 * OffsetGroups * KernelPoints, Conv.OutH, Conv.OutW];

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

/// <summary>Deformable convolution v1 (offsets) and v2 (offsets and a modulation mask), as
/// torchvision.ops.deform_conv2d. For output (n, o, y, x) and kernel point k = (i, j):
/// p = p0 + p_k + Δp_k with p0 + p_k = (y·s − pad + i·d, x·s − pad + j·d), Δp_k = (offset[2k], offset[2k+1])
/// of the input channel's offset group, and
/// out = Σ_{c,k} weight[o, c, k] · m_k · Σ_q g_q(p) · input[c, q] + bias[o].
/// Computed as deformable im2col followed by a grouped GEMM. Backward: the GEMM gives ∂L/∂columns
/// and ∂L/∂weight; one pass over the sampling points then scatters ∂L/∂columns into the input
/// through the corner coefficients and gives ∂L/∂Δp = m · Σ_c ∂L/∂col · Σ_q (∂g_q/∂p) v_q and
/// ∂L/∂m = Σ_c ∂L/∂col · Σ_q g_q v_q.
/// Two CPU paths compute this: the reference (<see cref="EngineOptions.UseReferenceKernels"/>) runs
/// <see cref="DeformConv2dKernels"/> image by image; the fast path runs
/// <see cref="DeformConv2dFastKernels"/> on chunks of images sized by
/// <see cref="EngineOptions.WorkspaceBytes"/>, with one GEMM per group and chunk.</summary>
public static partial class Functional
{
    public static Tensor<T> DeformConv2d<T>(Tensor<T> input, Tensor<T> offset, Tensor<T> weight, Tensor<T>? bias = null,
        (int H, int W)? stride = null, (int H, int W)? padding = null, (int H, int W)? dilation = null, Tensor<T>? mask = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dp = DeformConv2dParams.Create(input, offset, weight, bias, stride, padding, dilation, mask);
        if (!input.Device.IsCpu) return DeformConv2dOnDevice(dp, input, offset, weight, bias, mask);
        return EngineOptions.UseReferenceKernels
            ? DeformConv2dReference(dp, input, offset, weight, bias, mask)
            : DeformConv2dFast(dp, input, offset, weight, bias, mask);
    }

    private static Tensor<T> DeformConv2dReference<T>(DeformConv2dParams dp, Tensor<T> input, Tensor<T> offset, Tensor<T> weight,
        Tensor<T>? bias, Tensor<T>? mask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        var src = input.CpuData;
        var off = offset.CpuData;
        var msk = mask?.CpuData;
        var w = weight.CpuData;
        int imageSize = cp.InChannels * cp.Height * cp.Width;
        int offsetSize = 2 * dp.OffsetGroups * dp.KernelPoints * cp.ColumnCols;
        int maskSize = dp.OffsetGroups * dp.KernelPoints * cp.ColumnCols;
        int outSize = cp.OutChannels * cp.ColumnCols;

        var columns = new T[cp.ColumnRows * cp.ColumnCols];
        var result = new T[cp.Batch * outSize];
        for (int n = 0; n < cp.Batch; n++)
        {
            DeformConv2dKernels.Im2Col(dp, src.AsSpan(n * imageSize, imageSize), off.AsSpan(n * offsetSize, offsetSize),
                msk is null ? default : msk.AsSpan(n * maskSize, maskSize), columns);
            ConvGemm.Forward(cp.Groups, cp.OutChannels, cp.ColumnRows, cp.ColumnCols, w, columns, result.AsSpan(n * outSize, outSize));
        }
        if (bias is not null) ConvGemm.AddBias(bias.CpuData, result, cp.Batch, cp.ColumnCols);

        var output = Tensor<T>.Wrap(result, cp.Batch, cp.OutChannels, cp.OutH, cp.OutW);
        return Autograd.Record(output, "DeformConv2d", (grad, needs) =>
        {
            var g = grad.CpuData;
            var gradInput = needs[0] ? new T[src.Length] : null;
            var gradOffset = needs[1] ? new T[off.Length] : null;
            var gradWeight = needs[2] ? new T[w.Length] : null;
            var gradMask = msk is not null && needs[4] ? new T[msk.Length] : null;
            bool needSampling = gradInput is not null || gradOffset is not null || gradMask is not null;
            var gradColumns = needSampling ? new T[columns.Length] : null;
            for (int n = 0; n < cp.Batch; n++)
            {
                var gradOut = g.AsSpan(n * outSize, outSize);
                var image = src.AsSpan(n * imageSize, imageSize);
                var offsetN = off.AsSpan(n * offsetSize, offsetSize);
                var maskN = msk is null ? default : msk.AsSpan(n * maskSize, maskSize);
                if (gradWeight is not null)
                {
                    DeformConv2dKernels.Im2Col(dp, image, offsetN, maskN, columns);
                    ConvGemm.GradWeight(cp.Groups, cp.OutChannels, cp.ColumnRows, cp.ColumnCols, gradOut, columns, gradWeight);
                }
                if (gradColumns is null) continue;
                ConvGemm.GradColumns(cp.Groups, cp.OutChannels, cp.ColumnRows, cp.ColumnCols, w, gradOut, gradColumns);
                DeformConv2dKernels.SamplingBackward(dp, gradColumns, image, offsetN, maskN,
                    gradInput is null ? default : gradInput.AsSpan(n * imageSize, imageSize),
                    gradOffset is null ? default : gradOffset.AsSpan(n * offsetSize, offsetSize),
                    gradMask is null ? default : gradMask.AsSpan(n * maskSize, maskSize));
            }
            return [
                gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
                gradOffset is null ? null : Tensor<T>.Wrap(gradOffset, offset.ShapeArray),
                gradWeight is null ? null : Tensor<T>.Wrap(gradWeight, weight.ShapeArray),
                needs[3] ? Tensor<T>.Wrap(ConvGemm.GradBias(g, cp.Batch, cp.OutChannels, cp.ColumnCols), cp.OutChannels) : null,
                gradMask is null ? null : Tensor<T>.Wrap(gradMask, mask!.ShapeArray)];
        }, input, offset, weight, bias, mask);
    }

    private static Tensor<T> DeformConv2dFast<T>(DeformConv2dParams dp, Tensor<T> input, Tensor<T> offset, Tensor<T> weight,
        Tensor<T>? bias, Tensor<T>? mask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        var src = input.CpuData;
        var off = offset.CpuData;
        var msk = mask?.CpuData;
        var w = weight.CpuData;
        var result = new T[cp.Batch * cp.OutChannels * cp.ColumnCols];
        var plan = DeformConv2dWorkspace.Create(dp, Unsafe.SizeOf<T>(), columns: true, sampling: false, inputGradient: false);
        var scratch = ScratchArrays<T>.Rent(plan.ScratchLength);
        try
        {
            var permutedWeight = plan.Weights(scratch).Span;
            ConvGemm.ToKernelPointMajor<T>(w, cp.OutChannels, cp.InChannels / cp.Groups, dp.KernelPoints, permutedWeight);
            for (int first = 0; first < cp.Batch; first += plan.ChunkImages)
            {
                var chunk = new DeformChunk(dp, first, Math.Min(plan.ChunkImages, cp.Batch - first));
                var padded = plan.Padded(scratch);
                var columns = plan.Columns(scratch)[..(chunk.Rows * chunk.RowLength)];
                var product = plan.Product(scratch).Span[..(cp.OutChannels * chunk.Rows)];
                DeformConv2dFastKernels.PadImages(chunk, src, padded);
                DeformConv2dFastKernels.Im2Col(chunk, padded, off, msk, columns);
                ConvGemm.ForwardPositionMajor<T>(cp.Groups, cp.OutChannels, chunk.RowLength, chunk.Rows, permutedWeight, columns.Span, product);
                ConvGemm.FromChannelMajor<T>(product, bias is null ? default : bias.CpuData, first, chunk.Images, cp.OutChannels, cp.ColumnCols, result);
            }
        }
        finally
        {
            ScratchArrays<T>.Return(scratch);
        }

        var output = Tensor<T>.Wrap(result, cp.Batch, cp.OutChannels, cp.OutH, cp.OutW);
        return Autograd.Record(output, "DeformConv2d", (grad, needs) =>
        {
            var g = grad.CpuData;
            var gradInput = needs[0] ? new T[src.Length] : null;
            var gradOffset = needs[1] ? new T[off.Length] : null;
            var gradWeight = needs[2] ? new T[w.Length] : null;
            var gradMask = msk is not null && needs[4] ? new T[msk.Length] : null;
            if (gradInput is not null || gradOffset is not null || gradMask is not null || gradWeight is not null)
                DeformConv2dFastBackward(dp, src, off, msk, w, g, gradInput, gradOffset, gradWeight, gradMask);
            return [
                gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
                gradOffset is null ? null : Tensor<T>.Wrap(gradOffset, offset.ShapeArray),
                gradWeight is null ? null : Tensor<T>.Wrap(gradWeight, weight.ShapeArray),
                needs[3] ? Tensor<T>.Wrap(ConvGemm.GradBiasVectorized<T>(g, cp.Batch, cp.OutChannels, cp.ColumnCols), cp.OutChannels) : null,
                gradMask is null ? null : Tensor<T>.Wrap(gradMask, mask!.ShapeArray)];
        }, input, offset, weight, bias, mask);
    }

    /// <summary>Per chunk: gradOut to [O, chunk·L]; ∂L/∂columns = gradOutᵀ·W; one sampling pass for the
    /// offset and mask gradients that also rebuilds the columns and the coefficient table; the input
    /// gradient added channel run by channel run from that table; gradWeight += gradOut·columns.</summary>
    private static void DeformConv2dFastBackward<T>(DeformConv2dParams dp, T[] src, T[] off, T[]? msk, T[] w, T[] gradOut,
        T[]? gradInput, T[]? gradOffset, T[]? gradWeight, T[]? gradMask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        int groupChannels = cp.InChannels / cp.Groups;
        bool sampling = gradInput is not null || gradOffset is not null || gradMask is not null;
        var plan = DeformConv2dWorkspace.Create(dp, Unsafe.SizeOf<T>(), columns: gradWeight is not null, sampling: sampling,
            inputGradient: gradInput is not null);
        var scratch = ScratchArrays<T>.Rent(plan.ScratchLength);
        var tablePixels = ScratchArrays<int>.Rent(plan.TableLength);
        try
        {
            // Only the gradient-columns product reads the permuted weight.
            var permutedWeight = plan.Weights(scratch);
            if (sampling)
                ConvGemm.ToKernelPointMajor<T>(w, cp.OutChannels, groupChannels, dp.KernelPoints, permutedWeight.Span);
            for (int first = 0; first < cp.Batch; first += plan.ChunkImages)
            {
                var chunk = new DeformChunk(dp, first, Math.Min(plan.ChunkImages, cp.Batch - first));
                int columnLength = chunk.Rows * chunk.RowLength;
                var padded = plan.Padded(scratch);
                var product = plan.Product(scratch)[..(cp.OutChannels * chunk.Rows)];
                var columns = gradWeight is null ? Memory<T>.Empty : plan.Columns(scratch)[..columnLength];
                ConvGemm.ToChannelMajor<T>(gradOut, first, chunk.Images, cp.OutChannels, cp.ColumnCols, product.Span);
                DeformConv2dFastKernels.PadImages(chunk, src, padded);
                if (sampling)
                {
                    var gradColumns = plan.GradColumns(scratch)[..columnLength];
                    int tableLength = gradInput is null ? 0 : chunk.Rows * dp.OffsetGroups * dp.KernelPoints;
                    var pixels = tablePixels.AsMemory(0, tableLength);
                    var weights = plan.TableWeights(scratch)[..(4 * tableLength)];
                    ConvGemm.GradColumnsPositionMajor<T>(cp.Groups, cp.OutChannels, chunk.RowLength, chunk.Rows, permutedWeight.Span,
                        product.Span, gradColumns.Span);
                    DeformConv2dFastKernels.SamplingGradients(chunk, padded, off, msk, gradColumns, columns, pixels, weights, gradOffset, gradMask);
                    if (gradInput is not null)
                        DeformConv2dFastKernels.ScatterInputGradient(chunk, gradColumns, pixels, weights, plan.GradPadded(scratch), gradInput);
                }
                else
                {
                    DeformConv2dFastKernels.Im2Col(chunk, padded, off, msk, columns);
                }
                if (gradWeight is not null)
                    ConvGemm.GradWeightPositionMajor<T>(cp.Groups, cp.OutChannels, chunk.RowLength, chunk.Rows, product.Span, columns.Span,
                        gradWeight, accumulate: first > 0);
            }
            if (gradWeight is not null)
                ConvGemm.FromKernelPointMajorInPlace<T>(gradWeight, cp.OutChannels, groupChannels, dp.KernelPoints);
        }
        finally
        {
            ScratchArrays<int>.Return(tablePixels);
            ScratchArrays<T>.Return(scratch);
        }
    }
}

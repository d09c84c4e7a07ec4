using System.Runtime.CompilerServices;
using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The fast <see cref="IDeformConv2dBackend"/>: chunks of images sized by
/// <see cref="EngineOptions.WorkspaceBytes"/> (<see cref="DeformConv2dWorkspace"/>), padded channels-last
/// images and position-major columns (<see cref="DeformChunk"/>), the vectorised sampling kernels of
/// <see cref="DeformConv2dFastKernels"/>; a forward in L2-sized tiles of positions (sampling and product per tile,
/// straight into the output) where the column rows are short enough, else one GEMM per group and chunk; a
/// deterministic backward.</summary>
public sealed partial class CpuFastBackend
{
    /// <summary>Whether the forward runs in tiles where the shape allows (<see cref="DeformConv2dWorkspace.ForwardTileRows"/>);
    /// tests switch it off to compare both paths.</summary>
    internal static bool TiledForward { get; set; } = true;

    /// <summary>Whether the backward may add the input gradient in its sampling pass
    /// (<see cref="DeformConv2dFastKernels.SamplingAndInputGradients{T}"/>) where the chunk suits it; tests switch it
    /// off to compare both paths.</summary>
    internal static bool FusedInputGradient { get; set; } = true;

    /// <summary>Positions per tile instead of <see cref="DeformConv2dWorkspace.ForwardTileRows"/>'s choice (0: its
    /// choice); the tiles benchmark times the candidates with it.</summary>
    internal static int ForwardTileRowsOverride { get; set; }

    /// <inheritdoc />
    public override Tensor<T> DeformConv2d<T>(DeformConv2dParams dp, Tensor<T> input, Tensor<T> offset, Tensor<T> weight,
        Tensor<T>? bias, Tensor<T>? mask)
    {
        var cp = dp.Conv;
        var src = input.CpuData;
        var off = offset.CpuData;
        var msk = mask?.CpuData;
        // Every element is written below (by the product or the tiles' products), so it need not be zeroed.
        var result = GC.AllocateUninitializedArray<T>(cp.Batch * cp.OutChannels * cp.ColumnCols);
        // The weight re-laid-out and packed for the product, kept while the weight is unchanged.
        using var weightForms = DeformConv2dWeights.ForForward(weight, cp.Groups);
        var packedWeight = weightForms.Packed;
        var permutedWeight = weightForms.Permuted;
        int tileRows = packedWeight is null || !TiledForward ? 0
            : ForwardTileRowsOverride > 0 ? ForwardTileRowsOverride
            : DeformConv2dWorkspace.ForwardTileRows(dp, Unsafe.SizeOf<T>(), EngineOptions.Threads);
        var plan = DeformConv2dWorkspace.ForForward(dp, Unsafe.SizeOf<T>(), tiled: tileRows > 0);
        var scratch = ScratchArrays<T>.Rent(plan.ScratchLength);
        try
        {
            for (int first = 0; first < cp.Batch; first += plan.ChunkImages)
            {
                var chunk = new DeformChunk(dp, first, Math.Min(plan.ChunkImages, cp.Batch - first));
                var padded = plan.Padded(scratch);
                DeformConv2dFastKernels.PadImages(chunk, src, padded);
                if (tileRows > 0)
                {
                    DeformConv2dFastKernels.SampleAndMultiply(chunk, padded, off, msk, packedWeight!, bias?.CpuData, result, tileRows);
                    continue;
                }
                var columns = plan.Columns(scratch)[..(chunk.Rows * chunk.RowLength)];
                var product = plan.Product(scratch).Span[..(cp.OutChannels * chunk.Rows)];
                DeformConv2dFastKernels.Im2Col(chunk, padded, off, msk, columns);
                if (packedWeight is not null)
                    ConvGemm.ForwardPositionMajorPacked<T>(packedWeight, cp.OutChannels, chunk.RowLength, chunk.Rows, columns.Span, product);
                else
                    ConvGemm.ForwardPositionMajor<T>(cp.Groups, cp.OutChannels, chunk.RowLength, chunk.Rows, permutedWeight, columns.Span, product);
                ConvGemm.FromChannelMajor<T>(product, bias is null ? default : bias.CpuData, first, chunk.Images, cp.OutChannels, cp.ColumnCols, result);
            }
        }
        finally
        {
            ScratchArrays<T>.Return(scratch);
        }

        return Tensor<T>.Wrap(result, cp.Batch, cp.OutChannels, cp.OutH, cp.OutW);
    }

    /// <inheritdoc />
    public override Tensor<T>?[] DeformConv2dBackward<T>(DeformConv2dParams dp, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> offset, Tensor<T> weight, Tensor<T>? bias, Tensor<T>? mask, bool[] needs)
    {
        var cp = dp.Conv;
        var src = input.CpuData;
        var off = offset.CpuData;
        var msk = mask?.CpuData;
        var g = gradOutput.CpuData;
        var gradInput = needs[0] ? new T[src.Length] : null;
        var gradOffset = needs[1] ? new T[off.Length] : null;
        var gradWeight = needs[2] ? new T[weight.Numel] : null;
        var gradMask = msk is not null && needs[4] ? new T[msk.Length] : null;
        var gradBias = bias is not null && needs[3] ? new T[cp.OutChannels] : null;
        // The bias gradient is summed while the upstream gradient is laid out for the products, or alone.
        if (gradInput is not null || gradOffset is not null || gradMask is not null || gradWeight is not null)
            DeformConv2dFastBackward(dp, src, off, msk, weight, g, gradInput, gradOffset, gradWeight, gradMask, gradBias);
        else if (gradBias is not null)
            gradBias = ConvGemm.GradBiasVectorized<T>(g, cp.Batch, cp.OutChannels, cp.ColumnCols);
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradOffset is null ? null : Tensor<T>.Wrap(gradOffset, offset.ShapeArray),
            gradWeight is null ? null : Tensor<T>.Wrap(gradWeight, weight.ShapeArray),
            gradBias is null ? null : Tensor<T>.Wrap(gradBias, cp.OutChannels),
            gradMask is null ? null : Tensor<T>.Wrap(gradMask, mask!.ShapeArray)];
    }

    /// <summary>Per chunk: gradOut to [O, chunk·L] (and its sums into gradBias); ∂L/∂columns = gradOutᵀ·W; one sampling pass for the
    /// offset and mask gradients that also rebuilds the columns and the coefficient table; the input
    /// gradient added channel run by channel run from that table (or, with an image or more per thread, in the
    /// sampling pass itself, bitwise the same); gradWeight += gradOut·columns.</summary>
    private static void DeformConv2dFastBackward<T>(DeformConv2dParams dp, T[] src, T[] off, T[]? msk, Tensor<T> weight, T[] gradOut,
        T[]? gradInput, T[]? gradOffset, T[]? gradWeight, T[]? gradMask, T[]? gradBias) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        int groupChannels = cp.InChannels / cp.Groups;
        bool sampling = gradInput is not null || gradOffset is not null || gradMask is not null;
        var plan = DeformConv2dWorkspace.ForBackward(dp, Unsafe.SizeOf<T>(), gradInput is not null,
            gradOffset is not null || gradMask is not null, gradWeight is not null);
        var scratch = ScratchArrays<T>.Rent(plan.ScratchLength);
        var tablePixels = ScratchArrays<int>.Rent(plan.TableLength);
        try
        {
            // Only the gradient-columns product reads the permuted weight (built once per version of the weight).
            using var weightForms = sampling ? DeformConv2dWeights.ForBackward(weight, cp.Groups) : default;
            var permutedWeight = weightForms.Permuted ?? [];
            for (int first = 0; first < cp.Batch; first += plan.ChunkImages)
            {
                var chunk = new DeformChunk(dp, first, Math.Min(plan.ChunkImages, cp.Batch - first));
                int columnLength = chunk.Rows * chunk.RowLength;
                var padded = plan.Padded(scratch);
                var product = plan.Product(scratch)[..(cp.OutChannels * chunk.Rows)];
                var columns = gradWeight is null ? Memory<T>.Empty : plan.Columns(scratch)[..columnLength];
                ConvGemm.ToChannelMajor<T>(gradOut, first, chunk.Images, cp.OutChannels, cp.ColumnCols, product.Span, gradBias);
                DeformConv2dFastKernels.PadImages(chunk, src, padded);
                if (sampling)
                {
                    var gradColumns = plan.GradColumns(scratch)[..columnLength];
                    ConvGemm.GradColumnsPositionMajor<T>(cp.Groups, cp.OutChannels, chunk.RowLength, chunk.Rows, permutedWeight,
                        product.Span, gradColumns.Span);
                    if (gradInput is not null && FusedInputGradient && DeformConv2dFastKernels.FusesInputGradient(chunk, EngineOptions.Threads))
                    {
                        DeformConv2dFastKernels.SamplingAndInputGradients(chunk, padded, off, msk, gradColumns, columns, plan.GradPadded(scratch),
                            gradInput, gradOffset, gradMask);
                    }
                    else
                    {
                        // The coefficient table the input-gradient pass reads (none without an input gradient).
                        int tableLength = gradInput is null ? 0 : chunk.Rows * dp.OffsetGroups * dp.KernelPoints;
                        var pixels = tablePixels.AsMemory(0, tableLength);
                        var weights = plan.TableWeights(scratch)[..(4 * tableLength)];
                        DeformConv2dFastKernels.SamplingGradients(chunk, padded, off, msk, gradColumns, columns, pixels, weights, gradOffset, gradMask);
                        if (gradInput is not null)
                            DeformConv2dFastKernels.ScatterInputGradient(chunk, gradColumns, pixels, weights, plan.GradPadded(scratch), gradInput);
                    }
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

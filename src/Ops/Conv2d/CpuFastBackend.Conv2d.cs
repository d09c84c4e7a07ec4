using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The fast <see cref="IConv2dBackend"/>: chunks of images sized by <see cref="EngineOptions.WorkspaceBytes"/>,
/// parallel im2col/col2im over channel planes (<see cref="Conv2dFastKernels"/>) and one GEMM per group and chunk;
/// a 1×1 stride-1 unpadded convolution multiplies the input directly (no columns).</summary>
public sealed partial class CpuFastBackend
{
    /// <inheritdoc />
    public override Tensor<T> Conv2d<T>(Conv2dParams cp, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias)
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

        return Tensor<T>.Wrap(result, cp.Batch, cp.OutChannels, cp.OutH, cp.OutW);
    }

    /// <inheritdoc />
    public override Tensor<T>?[] Conv2dBackward<T>(Conv2dParams cp, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> weight,
        Tensor<T>? bias, bool[] needs)
    {
        var src = input.CpuData;
        var w = weight.CpuData;
        var g = gradOutput.CpuData;
        var gradInput = needs[0] ? new T[src.Length] : null;
        var gradWeight = needs[1] ? new T[w.Length] : null;
        if (gradInput is not null || gradWeight is not null)
            Conv2dFastBackward(cp, src, w, g, gradInput, gradWeight);
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradWeight is null ? null : Tensor<T>.Wrap(gradWeight, weight.ShapeArray),
            bias is not null && needs[2] ? Tensor<T>.Wrap(ConvGemm.GradBiasVectorized<T>(g, cp.Batch, cp.OutChannels, cp.ColumnCols), cp.OutChannels) : null];
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

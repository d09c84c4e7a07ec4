using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The reference <see cref="IDeformConv2dBackend"/>: per image, <see cref="DeformConv2dReferenceKernels"/>
/// builds the [C·kh·kw, OutH·OutW] columns and a grouped GEMM multiplies them by the weight; the backward
/// rebuilds them for ∂L/∂W and scatters ∂L/∂columns = Wᵀ·∂L/∂out through the sampling points.</summary>
public partial class CpuReferenceBackend : IDeformConv2dBackend
{
    /// <inheritdoc />
    public virtual Tensor<T> DeformConv2d<T>(DeformConv2dParams parameters, Tensor<T> input, Tensor<T> offset, Tensor<T> weight,
        Tensor<T>? bias, Tensor<T>? mask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var conv = parameters.Conv;
        var layout = new DeformConv2dImageLayout(parameters);
        var source = input.CpuData;
        var offsets = offset.CpuData;
        var masks = mask?.CpuData;
        var columns = new T[conv.ColumnRows * conv.ColumnCols];
        var result = new T[conv.Batch * layout.OutputSize];
        for (int n = 0; n < conv.Batch; n++)
        {
            DeformConv2dReferenceKernels.Im2Col(parameters, layout.Image(source, n), layout.Offset(offsets, n), layout.Mask(masks, n), columns);
            ConvGemm.Forward(conv.Groups, conv.OutChannels, conv.ColumnRows, conv.ColumnCols, weight.CpuData, columns,
                result.AsSpan(n * layout.OutputSize, layout.OutputSize));
        }
        if (bias is not null) ConvGemm.AddBias(bias.CpuData, result, conv.Batch, conv.ColumnCols);
        return Tensor<T>.Wrap(result, conv.Batch, conv.OutChannels, conv.OutH, conv.OutW);
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] DeformConv2dBackward<T>(DeformConv2dParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> offset, Tensor<T> weight, Tensor<T>? bias, Tensor<T>? mask, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var conv = parameters.Conv;
        var layout = new DeformConv2dImageLayout(parameters);
        var source = input.CpuData;
        var offsets = offset.CpuData;
        var masks = mask?.CpuData;
        var w = weight.CpuData;
        var g = gradOutput.CpuData;
        var gradInput = needs[0] ? new T[source.Length] : null;
        var gradOffset = needs[1] ? new T[offsets.Length] : null;
        var gradWeight = needs[2] ? new T[w.Length] : null;
        var gradMask = masks is not null && needs[4] ? new T[masks.Length] : null;
        bool needSampling = gradInput is not null || gradOffset is not null || gradMask is not null;
        var columns = new T[conv.ColumnRows * conv.ColumnCols];
        var gradColumns = needSampling ? new T[columns.Length] : null;
        for (int n = 0; n < conv.Batch; n++)
        {
            var gradOut = g.AsSpan(n * layout.OutputSize, layout.OutputSize);
            var image = layout.Image(source, n);
            var offsetN = layout.Offset(offsets, n);
            var maskN = layout.Mask(masks, n);
            if (gradWeight is not null)
            {
                DeformConv2dReferenceKernels.Im2Col(parameters, image, offsetN, maskN, columns);
                ConvGemm.GradWeight(conv.Groups, conv.OutChannels, conv.ColumnRows, conv.ColumnCols, gradOut, columns, gradWeight);
            }
            if (gradColumns is null) continue;
            ConvGemm.GradColumns(conv.Groups, conv.OutChannels, conv.ColumnRows, conv.ColumnCols, w, gradOut, gradColumns);
            DeformConv2dReferenceKernels.SamplingBackward(parameters, gradColumns, image, offsetN, maskN,
                layout.Image(gradInput, n), layout.Offset(gradOffset, n), layout.Mask(gradMask, n));
        }
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradOffset is null ? null : Tensor<T>.Wrap(gradOffset, offset.ShapeArray),
            gradWeight is null ? null : Tensor<T>.Wrap(gradWeight, weight.ShapeArray),
            bias is not null && needs[3]
                ? Tensor<T>.Wrap(ConvGemm.GradBias<T>(g, conv.Batch, conv.OutChannels, conv.ColumnCols), conv.OutChannels)
                : null,
            gradMask is null ? null : Tensor<T>.Wrap(gradMask, mask!.ShapeArray)];
    }
}

/// <summary>Sizes of one image's slice of the input, offset, mask and output of a deformable
/// convolution; a null array gives an empty span (an absent mask or gradient).</summary>
internal readonly struct DeformConv2dImageLayout(DeformConv2dParams parameters)
{
    private readonly int _imageSize = parameters.Conv.InChannels * parameters.Conv.Height * parameters.Conv.Width;
    private readonly int _maskSize = parameters.OffsetGroups * parameters.KernelPoints * parameters.Conv.ColumnCols;

    public int OutputSize { get; } = parameters.Conv.OutChannels * parameters.Conv.ColumnCols;

    public Span<T> Image<T>(T[]? data, int n) => data is null ? default : data.AsSpan(n * _imageSize, _imageSize);

    public Span<T> Offset<T>(T[]? data, int n) => data is null ? default : data.AsSpan(n * 2 * _maskSize, 2 * _maskSize);

    public Span<T> Mask<T>(T[]? data, int n) => data is null ? default : data.AsSpan(n * _maskSize, _maskSize);
}

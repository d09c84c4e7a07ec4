using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The reference <see cref="IConv2dBackend"/>: per image, im2col (<see cref="Conv2dReferenceKernels"/>)
/// and a grouped GEMM; the backward rebuilds the columns for ∂L/∂W and scatters ∂L/∂columns by col2im.</summary>
public partial class CpuReferenceBackend : IConv2dBackend
{
    /// <inheritdoc />
    public virtual Tensor<T> Conv2d<T>(Conv2dParams cp, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var src = input.CpuData;
        var w = weight.CpuData;
        var columns = new T[cp.ColumnRows * cp.ColumnCols];
        var result = new T[cp.Batch * cp.OutChannels * cp.ColumnCols];
        int imageSize = cp.InChannels * cp.Height * cp.Width;
        for (int n = 0; n < cp.Batch; n++)
        {
            Conv2dReferenceKernels.Im2Col(cp, src.AsSpan(n * imageSize, imageSize), columns);
            ConvGemm.Forward(cp.Groups, cp.OutChannels, cp.ColumnRows, cp.ColumnCols, w, columns,
                result.AsSpan(n * cp.OutChannels * cp.ColumnCols, cp.OutChannels * cp.ColumnCols));
        }
        if (bias is not null) ConvGemm.AddBias(bias.CpuData, result, cp.Batch, cp.ColumnCols);

        return Tensor<T>.Wrap(result, cp.Batch, cp.OutChannels, cp.OutH, cp.OutW);
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] Conv2dBackward<T>(Conv2dParams cp, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> weight,
        Tensor<T>? bias, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var src = input.CpuData;
        var w = weight.CpuData;
        var columns = new T[cp.ColumnRows * cp.ColumnCols];
        int imageSize = cp.InChannels * cp.Height * cp.Width;
        var g = gradOutput.CpuData;
        var gradInput = needs[0] ? new T[src.Length] : null;
        var gradWeight = needs[1] ? new T[w.Length] : null;
        var gradColumns = new T[columns.Length];
        for (int n = 0; n < cp.Batch; n++)
        {
            var gradOut = g.AsSpan(n * cp.OutChannels * cp.ColumnCols, cp.OutChannels * cp.ColumnCols);
            if (gradWeight is not null)
            {
                Conv2dReferenceKernels.Im2Col(cp, src.AsSpan(n * imageSize, imageSize), columns);
                ConvGemm.GradWeight(cp.Groups, cp.OutChannels, cp.ColumnRows, cp.ColumnCols, gradOut, columns, gradWeight);
            }
            if (gradInput is not null)
            {
                ConvGemm.GradColumns(cp.Groups, cp.OutChannels, cp.ColumnRows, cp.ColumnCols, w, gradOut, gradColumns);
                Conv2dReferenceKernels.Col2Im(cp, gradColumns, gradInput.AsSpan(n * imageSize, imageSize));
            }
        }
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradWeight is null ? null : Tensor<T>.Wrap(gradWeight, weight.ShapeArray),
            bias is not null && needs[2] ? Tensor<T>.Wrap(ConvGemm.GradBias(g, cp.Batch, cp.OutChannels, cp.ColumnCols), cp.OutChannels) : null];
    }
}

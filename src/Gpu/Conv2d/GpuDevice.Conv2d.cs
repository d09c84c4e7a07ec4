namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IConv2dBackend"/>: im2col and a GEMM batched over the images of a chunk
/// and the groups; the backward mirrors the CPU one (∂L/∂W accumulates image by image, so its summation
/// order is fixed). Kernels: <see cref="Kernels.Conv2dGpuKernels"/>.</summary>
public abstract partial class GpuDevice : IConv2dBackend
{
    public Tensor<T> Conv2d<T>(Conv2dParams parameters, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var products = new GpuConvProducts(parameters);
        int chunk = products.ImagesPerChunk<T>(1);
        var output = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.OutChannels, parameters.OutH, parameters.OutW);
        using (var columns = Allocate<T>(chunk * products.ColumnsPerImage))
        {
            for (int first = 0; first < parameters.Batch; first += chunk)
            {
                int images = Math.Min(chunk, parameters.Batch - first);
                Im2Col<T>(parameters, input.Buffer!, first, images, columns);
                products.Forward<T>(this, weight.Buffer!, columns, output.Buffer!, first, images);
            }
        }
        if (bias is not null) AddBias<T>(output.Buffer!, bias.Buffer!, parameters.Batch, parameters.OutChannels, parameters.ColumnCols);
        return output;
    }

    public Tensor<T>?[] Conv2dBackward<T>(Conv2dParams parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> weight,
        Tensor<T>? bias, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var products = new GpuConvProducts(parameters);
        int chunk = products.ImagesPerChunk<T>(1);
        var gradInput = needs[0] ? Tensor<T>.Uninitialized(this, input.ShapeArray) : null;
        var gradWeight = needs[1] ? Full(T.Zero, weight.ShapeArray) : null;
        var gradBias = bias is not null && needs[2] ? Tensor<T>.Uninitialized(this, parameters.OutChannels) : null;
        var gradOut = gradOutput.Buffer!;
        if (gradInput is not null || gradWeight is not null)
        {
            using var columns = Allocate<T>(chunk * products.ColumnsPerImage);
            for (int first = 0; first < parameters.Batch; first += chunk)
            {
                int images = Math.Min(chunk, parameters.Batch - first);
                if (gradWeight is not null)
                {
                    Im2Col<T>(parameters, input.Buffer!, first, images, columns);
                    products.GradWeight<T>(this, gradOut, columns, gradWeight.Buffer!, first, images);
                }
                if (gradInput is not null)
                {
                    products.GradColumns<T>(this, weight.Buffer!, gradOut, columns, first, images);
                    Col2Im<T>(parameters, columns, first, images, gradInput.Buffer!);
                }
            }
        }
        if (gradBias is not null) BiasGrad<T>(gradOut, gradBias.Buffer!, parameters.Batch, parameters.OutChannels, parameters.ColumnCols);
        return [gradInput, gradWeight, gradBias];
    }
}

using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IConv2dBackend"/>: im2col and a GEMM batched over the images of a chunk
/// and the groups; the backward mirrors the CPU one (∂L/∂W accumulates image by image, so its summation
/// order is fixed). Kernels: <see cref="Conv2dGpuKernels"/>.</summary>
public abstract partial class GpuDevice : IConv2dBackend
{
    /// <inheritdoc />
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
                Im2Col<T>(ConvGeometry.Of(parameters, first, images), Elements(input), View<T>(columns));
                products.Forward<T>(this, weight.Buffer!, columns, output.Buffer!, first, images);
            }
        }
        if (bias is not null) AddBias(Elements(output), Elements(bias), parameters.OutChannels, parameters.ColumnCols);
        return output;
    }

    /// <inheritdoc />
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
                var geometry = ConvGeometry.Of(parameters, first, images);
                if (gradWeight is not null)
                {
                    Im2Col<T>(geometry, Elements(input), View<T>(columns));
                    products.GradWeight<T>(this, gradOut, columns, gradWeight.Buffer!, first, images);
                }
                if (gradInput is not null)
                {
                    products.GradColumns<T>(this, weight.Buffer!, gradOut, columns, first, images);
                    Launch<T, ArrayView<T>, ArrayView<T>, ConvGeometry>(Items((long)images * parameters.InChannels * parameters.Height * parameters.Width),
                        typeof(Conv2dGpuKernels), nameof(Conv2dGpuKernels.Col2Im), View<T>(columns), Elements(gradInput), geometry);
                }
            }
        }
        if (gradBias is not null) BiasGrad(Elements(gradOutput), Elements(gradBias), parameters.Batch, parameters.OutChannels, parameters.ColumnCols);
        return [gradInput, gradWeight, gradBias];
    }

    private void Im2Col<T>(ConvGeometry geometry, ArrayView<T> input, ArrayView<T> columns) where T : unmanaged, IFloatingPointIeee754<T> =>
        Launch<T, ArrayView<T>, ArrayView<T>, ConvGeometry>(Items((long)geometry.Images * geometry.Channels * geometry.Points * geometry.Columns),
            typeof(Conv2dGpuKernels), nameof(Conv2dGpuKernels.Im2Col), input, columns, geometry);

    private void AddBias<T>(ArrayView<T> output, ArrayView<T> bias, int channels, int plane) where T : unmanaged, IFloatingPointIeee754<T> =>
        Launch<T, ArrayView<T>, ArrayView<T>, int, long, long>(Items(output.Length), typeof(Conv2dGpuKernels), nameof(Conv2dGpuKernels.AddBias),
            output, bias, channels, (long)plane, output.Length);

    /// <summary>∂L/∂bias[o] = Σ over images and positions of ∂L/∂out[n, o]: per-channel sums in a fixed order.</summary>
    private void BiasGrad<T>(ArrayView<T> gradOutput, ArrayView<T> gradBias, int batch, int channels, int plane)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        ChannelSums(ChannelTerm.Value, batch, channels, plane, gradOutput, null, null, gradBias, T.One);
}

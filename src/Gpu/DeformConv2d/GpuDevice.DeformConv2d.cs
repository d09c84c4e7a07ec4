using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IDeformConv2dBackend"/>: deformable im2col and a GEMM batched over a
/// chunk of images and the groups; the backward computes ∂L/∂columns by GEMM and then the input, offset
/// and mask gradients in one sampling-backward launch per chunk (kernels: <see cref="DeformConv2dGpuKernels"/>).</summary>
public abstract partial class GpuDevice : IDeformConv2dBackend
{
    /// <inheritdoc />
    public Tensor<T> DeformConv2d<T>(DeformConv2dParams parameters, Tensor<T> input, Tensor<T> offset, Tensor<T> weight,
        Tensor<T>? bias, Tensor<T>? mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var conv = parameters.Conv;
        var products = new GpuConvProducts(conv);
        // Two column buffers live at once in the backward (columns and ∂L/∂columns).
        int chunk = products.ImagesPerChunk<T>(2);
        var output = Tensor<T>.Uninitialized(this, conv.Batch, conv.OutChannels, conv.OutH, conv.OutW);
        using (var columns = Allocate<T>(chunk * products.ColumnsPerImage))
        {
            for (int first = 0; first < conv.Batch; first += chunk)
            {
                int images = Math.Min(chunk, conv.Batch - first);
                DeformIm2Col(Args(parameters, first, images, mask), input, offset, mask, View<T>(columns));
                products.Forward<T>(this, weight.Buffer!, columns, output.Buffer!, first, images);
            }
        }
        if (bias is not null) AddBias(Elements(output), Elements(bias), conv.OutChannels, conv.ColumnCols);
        return output;
    }

    /// <inheritdoc />
    public Tensor<T>?[] DeformConv2dBackward<T>(DeformConv2dParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> offset, Tensor<T> weight, Tensor<T>? bias, Tensor<T>? mask, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var conv = parameters.Conv;
        var products = new GpuConvProducts(conv);
        int chunk = products.ImagesPerChunk<T>(2);
        var gradInput = needs[0] ? Tensor<T>.Uninitialized(this, input.ShapeArray) : null;
        var gradOffset = needs[1] ? Tensor<T>.Uninitialized(this, offset.ShapeArray) : null;
        var gradWeight = needs[2] ? Full(T.Zero, weight.ShapeArray) : null;
        var gradBias = bias is not null && needs[3] ? Tensor<T>.Uninitialized(this, conv.OutChannels) : null;
        var gradMask = mask is not null && needs[4] ? Tensor<T>.Uninitialized(this, mask.ShapeArray) : null;
        bool needSampling = gradInput is not null || gradOffset is not null || gradMask is not null;
        var gradOut = gradOutput.Buffer!;
        if (needSampling || gradWeight is not null)
        {
            using var columns = Allocate<T>(chunk * products.ColumnsPerImage);
            using var gradColumns = needSampling ? Allocate<T>(chunk * products.ColumnsPerImage) : null;
            for (int first = 0; first < conv.Batch; first += chunk)
            {
                int images = Math.Min(chunk, conv.Batch - first);
                var args = Args(parameters, first, images, mask);
                if (gradWeight is not null)
                {
                    DeformIm2Col(args, input, offset, mask, View<T>(columns));
                    products.GradWeight<T>(this, gradOut, columns, gradWeight.Buffer!, first, images);
                }
                if (gradColumns is null) continue;
                products.GradColumns<T>(this, weight.Buffer!, gradOut, gradColumns, first, images);
                DeformSamplingBackward(args with { WantOffset = gradOffset is null ? 0 : 1, WantMask = gradMask is null ? 0 : 1 },
                    View<T>(gradColumns), input, offset, mask, gradInput, gradOffset, gradMask);
            }
        }
        if (gradBias is not null) BiasGrad(Elements(gradOutput), Elements(gradBias), conv.Batch, conv.OutChannels, conv.ColumnCols);
        return [gradInput, gradOffset, gradWeight, gradBias, gradMask];
    }

    private void DeformIm2Col<T>(DeformArgs args, Tensor<T> input, Tensor<T> offset, Tensor<T>? mask, ArrayView<T> columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = args.Conv;
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, DeformArgs>(Items((long)g.Images * g.Channels * g.Points * g.Columns),
            typeof(DeformConv2dGpuKernels), nameof(DeformConv2dGpuKernels.DeformIm2Col),
            Elements(input), Elements(offset), ViewOrPlaceholder<T>(mask?.Buffer), columns, args);
    }

    private void DeformSamplingBackward<T>(DeformArgs args, ArrayView<T> gradColumns, Tensor<T> input, Tensor<T> offset, Tensor<T>? mask,
        Tensor<T>? gradInput, Tensor<T>? gradOffset, Tensor<T>? gradMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = args.Conv;
        long imageSize = (long)g.Channels * g.Height * g.Width;
        long columnCount = (long)g.Images * g.Channels * g.Points * g.Columns;
        // A bound on any input cell's sum: each of the kh·kw·OutH·OutW sampling points of a channel
        // reaches a cell through at most one corner, with a coefficient ≤ 1.
        double Bound() => (double)g.Points * g.Columns * MaxAbs(gradColumns.SubView(0, columnCount))
            * (mask is null ? 1.0 : MaxAbs(Elements(mask)));
        ArrayView<T>? range = gradInput is null ? null : Elements(gradInput).SubView(g.FirstImage * imageSize, g.Images * imageSize);
        Scatter(range, Bound, (mode, cells, scale) =>
            Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<long>, T, ArrayView<T>, ArrayView<T>, DeformArgs>(
                Items((long)g.Images * args.OffsetGroups * g.Points * g.Columns), typeof(DeformConv2dGpuKernels), nameof(DeformConv2dGpuKernels.SamplingBackward),
                gradColumns, Elements(input), Elements(offset), ViewOrPlaceholder<T>(mask?.Buffer), ViewOrPlaceholder<T>(gradInput?.Buffer), cells, scale,
                ViewOrPlaceholder<T>(gradOffset?.Buffer), ViewOrPlaceholder<T>(gradMask?.Buffer), args with { Mode = (int)mode }));
    }

    private static DeformArgs Args<T>(DeformConv2dParams parameters, int first, int images, Tensor<T>? mask)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(ConvGeometry.Of(parameters.Conv, first, images), parameters.OffsetGroups, mask is null ? 0 : 1, (int)ScatterMode.None, 0, 0);
}

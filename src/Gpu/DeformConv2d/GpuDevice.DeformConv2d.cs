using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IDeformConv2dBackend"/>: deformable im2col and a GEMM batched over a
/// chunk of images and the groups; the backward computes ∂L/∂columns by GEMM and then the input, offset
/// and mask gradients in one sampling-backward launch per chunk (kernels: <see cref="Kernels.DeformConv2dGpuKernels"/>).</summary>
public abstract partial class GpuDevice : IDeformConv2dBackend
{
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
                DeformIm2Col<T>(parameters, input.Buffer!, offset.Buffer!, mask?.Buffer, first, images, columns);
                products.Forward<T>(this, weight.Buffer!, columns, output.Buffer!, first, images);
            }
        }
        if (bias is not null) AddBias<T>(output.Buffer!, bias.Buffer!, conv.Batch, conv.OutChannels, conv.ColumnCols);
        return output;
    }

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
                if (gradWeight is not null)
                {
                    DeformIm2Col<T>(parameters, input.Buffer!, offset.Buffer!, mask?.Buffer, first, images, columns);
                    products.GradWeight<T>(this, gradOut, columns, gradWeight.Buffer!, first, images);
                }
                if (gradColumns is null) continue;
                products.GradColumns<T>(this, weight.Buffer!, gradOut, gradColumns, first, images);
                DeformSamplingBackward<T>(parameters, gradColumns, input.Buffer!, offset.Buffer!, mask?.Buffer,
                    first, images, gradInput?.Buffer, gradOffset?.Buffer, gradMask?.Buffer);
            }
        }
        if (gradBias is not null) BiasGrad<T>(gradOut, gradBias.Buffer!, conv.Batch, conv.OutChannels, conv.ColumnCols);
        return [gradInput, gradOffset, gradWeight, gradBias, gradMask];
    }

    private void DeformIm2Col<T>(DeformConv2dParams dp, DeviceBuffer input, DeviceBuffer offset, DeviceBuffer? mask,
        int firstImage, int images, DeviceBuffer columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = (long)images * dp.Conv.ColumnRows * dp.Conv.ColumnCols;
        Deform<T>("deform_im2col").Launch(count,
        [
            Native(input), Native(offset), NativeOrPlaceholder(mask), Flag(mask is not null),
            Native(columns), firstImage, images, .. Geometry(dp.Conv), dp.OffsetGroups,
        ]);
    }

    private void DeformSamplingBackward<T>(DeformConv2dParams dp, DeviceBuffer gradColumns, DeviceBuffer input,
        DeviceBuffer offset, DeviceBuffer? mask, int firstImage, int images,
        DeviceBuffer? gradInput, DeviceBuffer? gradOffset, DeviceBuffer? gradMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        long imageSize = (long)cp.InChannels * cp.Height * cp.Width;
        GpuBuffer columns = Native(gradColumns);
        // A bound on any input cell's sum: each of the kh·kw·OutH·OutW sampling points of a channel
        // reaches a cell through at most one corner, with a coefficient ≤ 1.
        double Bound() => (double)dp.KernelPoints * cp.ColumnCols
            * MaxAbs<T>(columns, (long)images * cp.ColumnRows * cp.ColumnCols)
            * (mask is null ? 1.0 : MaxAbs<T>(Native(mask), (long)cp.Batch * dp.OffsetGroups * dp.KernelPoints * cp.ColumnCols));
        Scatter<T>(gradInput, (long)firstImage * imageSize, images * imageSize, Bound, (mode, fixedCells, scale) =>
            Deform<T>("deform_sampling_backward").Launch((long)images * dp.OffsetGroups * dp.KernelPoints * cp.ColumnCols,
            [
                columns, Native(input), Native(offset), NativeOrPlaceholder(mask), Flag(mask is not null),
                NativeOrPlaceholder(gradInput), fixedCells, mode, Real<T>(scale),
                NativeOrPlaceholder(gradOffset), Flag(gradOffset is not null), NativeOrPlaceholder(gradMask), Flag(gradMask is not null),
                firstImage, images, .. Geometry(cp), dp.OffsetGroups,
            ]));
    }

    private GpuKernel Deform<T>(string name) => Kernel<T>(DeformConv2dGpuKernels.SourceName, DeformConv2dGpuKernels.Source, name);
}

namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.DeformConv2d{T}"/>: deformable im2col and a GEMM
/// batched over a chunk of images and the groups; the backward computes ∂L/∂columns by GEMM and then
/// the input, offset and mask gradients in one sampling-backward call per chunk.</summary>
public static partial class Functional
{
    private static Tensor<T> DeformConv2dOnDevice<T>(DeformConv2dParams dp, Tensor<T> input, Tensor<T> offset,
        Tensor<T> weight, Tensor<T>? bias, Tensor<T>? mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        var device = input.Device;
        var ops = OpsDevice.For(device, "DeformConv2d");
        var geometry = new ConvDeviceGeometry(cp);
        // Two column buffers live at once in the backward (columns and ∂L/∂columns).
        int chunk = OpsDevice.ImagesPerChunk(cp.Batch, 2 * geometry.ColumnsPerImage * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        var output = Tensor<T>.Uninitialized(device, cp.Batch, cp.OutChannels, cp.OutH, cp.OutW);
        using (var columns = device.Allocate<T>(chunk * geometry.ColumnsPerImage))
        {
            for (int first = 0; first < cp.Batch; first += chunk)
            {
                int images = Math.Min(chunk, cp.Batch - first);
                ops.DeformIm2Col<T>(dp, OpsDevice.BufferOf(input), OpsDevice.BufferOf(offset), mask?.Buffer, first, images, columns);
                geometry.Forward<T>(ops, OpsDevice.BufferOf(weight), columns, OpsDevice.BufferOf(output), first, images);
            }
        }
        if (bias is not null) ops.AddBias<T>(OpsDevice.BufferOf(output), OpsDevice.BufferOf(bias), cp.Batch, cp.OutChannels, cp.ColumnCols);

        return Autograd.Record(output, "DeformConv2d", (grad, needs) =>
        {
            var gradInput = needs[0] ? Tensor<T>.Uninitialized(device, input.ShapeArray) : null;
            var gradOffset = needs[1] ? Tensor<T>.Uninitialized(device, offset.ShapeArray) : null;
            var gradWeight = needs[2] ? Tensor<T>.ZerosOn(device, weight.ShapeArray) : null;
            var gradBias = needs[3] ? Tensor<T>.Uninitialized(device, cp.OutChannels) : null;
            var gradMask = mask is not null && needs[4] ? Tensor<T>.Uninitialized(device, mask.ShapeArray) : null;
            bool needSampling = gradInput is not null || gradOffset is not null || gradMask is not null;
            var gradOut = OpsDevice.BufferOf(grad);
            if (needSampling || gradWeight is not null)
            {
                using var columns = device.Allocate<T>(chunk * geometry.ColumnsPerImage);
                using var gradColumns = needSampling ? device.Allocate<T>(chunk * geometry.ColumnsPerImage) : null;
                for (int first = 0; first < cp.Batch; first += chunk)
                {
                    int images = Math.Min(chunk, cp.Batch - first);
                    if (gradWeight is not null)
                    {
                        ops.DeformIm2Col<T>(dp, OpsDevice.BufferOf(input), OpsDevice.BufferOf(offset), mask?.Buffer, first, images, columns);
                        geometry.GradWeight<T>(ops, gradOut, columns, gradWeight.Buffer!, first, images);
                    }
                    if (gradColumns is null) continue;
                    geometry.GradColumns<T>(ops, OpsDevice.BufferOf(weight), gradOut, gradColumns, first, images);
                    ops.DeformSamplingBackward<T>(dp, gradColumns, OpsDevice.BufferOf(input), OpsDevice.BufferOf(offset), mask?.Buffer,
                        first, images, gradInput?.Buffer, gradOffset?.Buffer, gradMask?.Buffer);
                }
            }
            if (gradBias is not null) ops.BiasGrad<T>(gradOut, gradBias.Buffer!, cp.Batch, cp.OutChannels, cp.ColumnCols);
            return [gradInput, gradOffset, gradWeight, gradBias, gradMask];
        }, input, offset, weight, bias, mask);
    }
}

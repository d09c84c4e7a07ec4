namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.Conv2d{T}"/>: im2col and a GEMM batched over the
/// images of a chunk and the groups; the backward mirrors the CPU one (∂L/∂W accumulates image by
/// image, so its summation order is fixed).</summary>
public static partial class Functional
{
    private static Tensor<T> Conv2dOnDevice<T>(Conv2dParams cp, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = input.Device;
        var ops = OpsDevice.For(device, "Conv2d");
        var geometry = new ConvDeviceGeometry(cp);
        int chunk = OpsDevice.ImagesPerChunk(cp.Batch, geometry.ColumnsPerImage * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        var output = Tensor<T>.Uninitialized(device, cp.Batch, cp.OutChannels, cp.OutH, cp.OutW);
        using (var columns = device.Allocate<T>(chunk * geometry.ColumnsPerImage))
        {
            for (int first = 0; first < cp.Batch; first += chunk)
            {
                int images = Math.Min(chunk, cp.Batch - first);
                ops.Im2Col<T>(cp, OpsDevice.BufferOf(input), first, images, columns);
                geometry.Forward<T>(ops, OpsDevice.BufferOf(weight), columns, OpsDevice.BufferOf(output), first, images);
            }
        }
        if (bias is not null) ops.AddBias<T>(OpsDevice.BufferOf(output), OpsDevice.BufferOf(bias), cp.Batch, cp.OutChannels, cp.ColumnCols);

        return Autograd.Record(output, "Conv2d", (grad, needs) =>
        {
            var gradInput = needs[0] ? Tensor<T>.Uninitialized(device, input.ShapeArray) : null;
            var gradWeight = needs[1] ? Tensor<T>.ZerosOn(device, weight.ShapeArray) : null;
            var gradBias = needs[2] ? Tensor<T>.Uninitialized(device, cp.OutChannels) : null;
            var gradOut = OpsDevice.BufferOf(grad);
            if (gradInput is not null || gradWeight is not null)
            {
                using var columns = device.Allocate<T>(chunk * geometry.ColumnsPerImage);
                for (int first = 0; first < cp.Batch; first += chunk)
                {
                    int images = Math.Min(chunk, cp.Batch - first);
                    if (gradWeight is not null)
                    {
                        ops.Im2Col<T>(cp, OpsDevice.BufferOf(input), first, images, columns);
                        geometry.GradWeight<T>(ops, gradOut, columns, gradWeight.Buffer!, first, images);
                    }
                    if (gradInput is not null)
                    {
                        geometry.GradColumns<T>(ops, OpsDevice.BufferOf(weight), gradOut, columns, first, images);
                        ops.Col2Im<T>(cp, columns, first, images, gradInput.Buffer!);
                    }
                }
            }
            if (gradBias is not null) ops.BiasGrad<T>(gradOut, gradBias.Buffer!, cp.Batch, cp.OutChannels, cp.ColumnCols);
            return [gradInput, gradWeight, gradBias];
        }, input, weight, bias);
    }

    /// <summary>The three grouped products of a (deformable) convolution on a chunk of column
    /// matrices, as batched GEMMs (outer = image, inner = group).</summary>
    private readonly struct ConvDeviceGeometry(Conv2dParams cp)
    {
        private readonly int _outPerGroup = cp.OutChannels / cp.Groups;
        private readonly int _rowsPerGroup = cp.ColumnRows / cp.Groups;
        private readonly int _cols = cp.ColumnCols;
        private readonly int _groups = cp.Groups;

        public long ColumnsPerImage => (long)cp.ColumnRows * cp.ColumnCols;

        private long OutputPerImage => (long)cp.OutChannels * _cols;

        /// <summary>out[n]_g = W_g · columns[n]_g.</summary>
        public void Forward<T>(IOpsDevice ops, DeviceBuffer weight, DeviceBuffer columns, DeviceBuffer output, int first, int images)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            ops.Gemm(_outPerGroup, _cols, _rowsPerGroup, images, _groups,
                new DeviceMatrix(weight, 0, _rowsPerGroup, 0, (long)_outPerGroup * _rowsPerGroup),
                new DeviceMatrix(columns, 0, _cols, ColumnsPerImage, (long)_rowsPerGroup * _cols),
                T.Zero,
                new DeviceMatrix(output, first * OutputPerImage, _cols, OutputPerImage, (long)_outPerGroup * _cols));

        /// <summary>gradWeight_g += gradOut[n]_g · columns[n]_gᵀ, one image after another.</summary>
        public void GradWeight<T>(IOpsDevice ops, DeviceBuffer gradOut, DeviceBuffer columns, DeviceBuffer gradWeight, int first, int images)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            for (int i = 0; i < images; i++)
                ops.Gemm(_outPerGroup, _rowsPerGroup, _cols, 1, _groups,
                    new DeviceMatrix(gradOut, (first + i) * OutputPerImage, _cols, 0, (long)_outPerGroup * _cols),
                    new DeviceMatrix(columns, i * ColumnsPerImage, _cols, 0, (long)_rowsPerGroup * _cols, Transposed: true),
                    T.One,
                    new DeviceMatrix(gradWeight, 0, _rowsPerGroup, 0, (long)_outPerGroup * _rowsPerGroup));
        }

        /// <summary>gradColumns[n]_g = W_gᵀ · gradOut[n]_g.</summary>
        public void GradColumns<T>(IOpsDevice ops, DeviceBuffer weight, DeviceBuffer gradOut, DeviceBuffer gradColumns, int first, int images)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            ops.Gemm(_rowsPerGroup, _cols, _outPerGroup, images, _groups,
                new DeviceMatrix(weight, 0, _rowsPerGroup, 0, (long)_outPerGroup * _rowsPerGroup, Transposed: true),
                new DeviceMatrix(gradOut, first * OutputPerImage, _cols, OutputPerImage, (long)_outPerGroup * _cols),
                T.Zero,
                new DeviceMatrix(gradColumns, 0, _cols, ColumnsPerImage, (long)_rowsPerGroup * _cols));
    }
}

namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.DeformPSRoIPool{T}"/>: the RoI geometry of the CPU
/// path (MXNet's rounding) as a table, the same graph; both gradients come from one backward call.</summary>
public static partial class Functional
{
    private static Tensor<T> DeformPSRoIPoolOnDevice<T>(Tensor<T> input, Tensor<T> rois, Tensor<T>? trans, double spatialScale,
        DeformPSRoIPoolShape shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = input.Device;
        var ops = OpsDevice.For(device, "DeformPSRoIPool");
        int[] outputShape = [shape.Rois, shape.OutputDim, shape.PooledSize, shape.PooledSize];
        ShapeMath.Numel(outputShape, "pooledSize");
        var geometry = new DeformPSRoIPoolGeometry<T>(rois, spatialScale, shape.OutputDim, shape.GroupSize, shape.PooledSize,
            shape.Parts, shape.Samples, shape.TransStd, shape.Classes, trans: null);
        var table = RoIDeviceTables.DeformPSRois(geometry, shape.Rois, device);
        var output = Tensor<T>.Uninitialized(device, outputShape);
        ops.DeformPSRoIPool<T>(shape, OpsDevice.BufferOf(input), OpsDevice.BufferOf(table), trans?.Buffer, OpsDevice.BufferOf(output));
        return Autograd.Record(output, "DeformPSRoIPool", (grad, needs) =>
        {
            var gradInput = needs[0] ? Tensor<T>.Uninitialized(device, input.ShapeArray) : null;
            var gradTrans = trans is not null && needs[1] ? Tensor<T>.Uninitialized(device, trans.ShapeArray) : null;
            ops.DeformPSRoIPoolBackward<T>(shape, OpsDevice.BufferOf(grad), OpsDevice.BufferOf(input), OpsDevice.BufferOf(table),
                trans?.Buffer, gradInput?.Buffer, gradTrans?.Buffer);
            return [gradInput, gradTrans];
        }, trans is null ? [input] : [input, trans]);
    }
}

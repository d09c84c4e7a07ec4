using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.DeformRoIPool{T}"/>: same windows, same graph;
/// both gradients come from one backward call.</summary>
public static partial class Functional
{
    private static Tensor<T> DeformRoIPoolOnDevice<T>(Tensor<T> input, Tensor<T>? offset, RoIWindow<T>[] windows,
        RoIPoolShape shape, double gamma)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = input.Device;
        var ops = OpsDevice.For(device, "DeformRoIPool");
        int[] outputShape = [shape.Rois, shape.Channels, shape.PooledH, shape.PooledW];
        ShapeMath.Numel(outputShape, "outputSize");
        T scale = T.CreateChecked(gamma);
        var table = RoIDeviceTables.Windows(windows, device);
        var output = Tensor<T>.Uninitialized(device, outputShape);
        ops.DeformRoIPool(shape, OpsDevice.BufferOf(input), OpsDevice.BufferOf(table), offset?.Buffer, scale, OpsDevice.BufferOf(output));
        return Autograd.Record(output, "DeformRoIPool", (grad, needs) =>
        {
            var gradInput = needs[0] ? Tensor<T>.Uninitialized(device, input.ShapeArray) : null;
            var gradOffset = offset is not null && needs[1] ? Tensor<T>.Uninitialized(device, offset.ShapeArray) : null;
            ops.DeformRoIPoolBackward(shape, OpsDevice.BufferOf(grad), OpsDevice.BufferOf(input), OpsDevice.BufferOf(table),
                offset?.Buffer, scale, gradInput?.Buffer, gradOffset?.Buffer);
            return [gradInput, gradOffset];
        }, input, offset);
    }
}

using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.RoIAlign{T}"/>: same windows, same graph.</summary>
public static partial class Functional
{
    private static Tensor<T> RoIAlignOnDevice<T>(Tensor<T> input, RoIWindow<T>[] windows, RoIPoolShape shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = input.Device;
        var ops = OpsDevice.For(device, "RoIAlign");
        int[] outputShape = [shape.Rois, shape.Channels, shape.PooledH, shape.PooledW];
        ShapeMath.Numel(outputShape, "outputSize");
        var table = RoIDeviceTables.Windows(windows, device);
        var output = Tensor<T>.Uninitialized(device, outputShape);
        ops.RoIAlign<T>(shape, OpsDevice.BufferOf(input), OpsDevice.BufferOf(table), OpsDevice.BufferOf(output));
        return Autograd.Record(output, "RoIAlign", (grad, _) =>
        {
            var gradInput = Tensor<T>.Uninitialized(device, input.ShapeArray);
            ops.RoIAlignBackward<T>(shape, OpsDevice.BufferOf(grad), OpsDevice.BufferOf(table), OpsDevice.BufferOf(gradInput));
            return [gradInput];
        }, input);
    }
}

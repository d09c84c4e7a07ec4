namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.MaxPool2d{T}"/>: the argmax of each window stays on
/// the device for the backward, as on the CPU.</summary>
public static partial class Functional
{
    private static Tensor<T> MaxPool2dOnDevice<T>(Tensor<T> input, PoolGeometry geometry, (int H, int W) kernelSize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = input.Device;
        var ops = OpsDevice.For(device, "MaxPool2d");
        var shape = new Pool2dShape(geometry.N * geometry.C, geometry.H, geometry.W, geometry.OutH, geometry.OutW,
            kernelSize.H, kernelSize.W, geometry.StrideH, geometry.StrideW, geometry.PadH, geometry.PadW);
        var output = Tensor<T>.Uninitialized(device, geometry.N, geometry.C, geometry.OutH, geometry.OutW);
        var argmax = device.Allocate<int>(shape.OutputCount);
        ops.MaxPool2d<T>(shape, OpsDevice.BufferOf(input), OpsDevice.BufferOf(output), argmax);
        return Autograd.Record(output, "MaxPool2d", (grad, _) =>
        {
            var gradInput = Tensor<T>.Uninitialized(device, input.ShapeArray);
            ops.MaxPool2dBackward<T>(shape, OpsDevice.BufferOf(grad), argmax, OpsDevice.BufferOf(gradInput));
            return [gradInput];
        }, input);
    }
}

namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.BilinearSample{T}"/>: same shapes, same graph.</summary>
public static partial class Functional
{
    private static Tensor<T> BilinearSampleOnDevice<T>(Tensor<T> input, Tensor<T> coords, BilinearSampleShape shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = input.Device;
        var ops = OpsDevice.For(device, "BilinearSample");
        var output = Tensor<T>.Uninitialized(device, shape.Batch, shape.Channels, shape.Points);
        ops.BilinearSample<T>(shape, OpsDevice.BufferOf(input), OpsDevice.BufferOf(coords), OpsDevice.BufferOf(output));
        return Autograd.Record(output, "BilinearSample", (grad, needs) =>
        {
            var gradInput = needs[0] ? Tensor<T>.Uninitialized(device, input.ShapeArray) : null;
            var gradCoords = needs[1] ? Tensor<T>.Uninitialized(device, coords.ShapeArray) : null;
            ops.BilinearSampleBackward<T>(shape, OpsDevice.BufferOf(grad), OpsDevice.BufferOf(input), OpsDevice.BufferOf(coords),
                gradInput?.Buffer, gradCoords?.Buffer);
            return [gradInput, gradCoords];
        }, input, coords);
    }
}

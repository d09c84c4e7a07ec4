namespace DeformEngine;

/// <summary>The device path of <see cref="AveragePooling.Run{T}"/>: the same windows, as an int table on
/// the device.</summary>
internal static partial class AveragePooling
{
    private static Tensor<T> RunOnDevice<T>(Tensor<T> input, Window[] windows, int outH, int outW, string opName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = input.Device;
        var ops = OpsDevice.For(device, opName);
        var inputShape = input.ShapeArray;
        var shape = new Pool2dShape(inputShape[0] * inputShape[1], inputShape[2], inputShape[3], outH, outW);
        var table = new int[windows.Length * 6];
        for (int k = 0; k < windows.Length; k++)
        {
            var (yStart, yEnd, xStart, xEnd, divisorRows, divisorColumns) = windows[k];
            int[] row = [yStart, yEnd, xStart, xEnd, divisorRows, divisorColumns];
            row.CopyTo(table, k * 6);
        }
        var windowBuffer = device.Allocate<int>(table.Length);
        windowBuffer.Upload<int>(table);
        var output = Tensor<T>.Uninitialized(device, inputShape[0], inputShape[1], outH, outW);
        ops.AvgPool<T>(shape, windowBuffer, OpsDevice.BufferOf(input), OpsDevice.BufferOf(output));
        return Autograd.Record(output, opName, (grad, _) =>
        {
            var gradInput = Tensor<T>.Uninitialized(device, inputShape);
            ops.AvgPoolBackward<T>(shape, windowBuffer, OpsDevice.BufferOf(grad), OpsDevice.BufferOf(gradInput));
            return [gradInput];
        }, input);
    }
}

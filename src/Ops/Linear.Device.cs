namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.Linear{T}"/>: the three products as GEMMs of the
/// device's MatMul primitive (Wᵀ by a transpose flag, not a copy), the bias by a broadcast add and a
/// sum over rows; the same graph as on the CPU.</summary>
public static partial class Functional
{
    private static Tensor<T> LinearOnDevice<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias, int rows, int[] outShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireSameDevice(nameof(weight), input, weight);
        RequireSameDevice(nameof(bias), input, bias);
        var device = input.Device;
        int outFeatures = weight.ShapeArray[0], inFeatures = weight.ShapeArray[1];
        var x = OpsDevice.BufferOf(input);
        var w = OpsDevice.BufferOf(weight);
        var output = Tensor<T>.Uninitialized(device, outShape);
        var y = OpsDevice.BufferOf(output);
        // y = x·Wᵀ (+ b broadcast over the rows, in place)
        device.MatMul<T>(1, rows, outFeatures, inFeatures, x, 0, false, w, 0, true, y, 0);
        if (bias is not null)
            device.StridedBinary<T>(DeviceBinaryOp.Add, [rows, outFeatures], y, [outFeatures, 1], OpsDevice.BufferOf(bias), [0, 1], y);

        return Autograd.Record(output, "Linear", (grad, needs) =>
        {
            var g = OpsDevice.BufferOf(grad);
            Tensor<T>? gradInput = null, gradWeight = null, gradBias = null;
            if (needs[0])
            {
                gradInput = Tensor<T>.Uninitialized(device, input.ShapeArray);
                device.MatMul<T>(1, rows, inFeatures, outFeatures, g, 0, false, w, 0, false, gradInput.Buffer!, 0);
            }
            if (needs[1])
            {
                gradWeight = Tensor<T>.Uninitialized(device, weight.ShapeArray);
                device.MatMul<T>(1, outFeatures, inFeatures, rows, g, 0, true, x, 0, false, gradWeight.Buffer!, 0);
            }
            if (needs[2])
            {
                gradBias = Tensor<T>.Uninitialized(device, outFeatures);
                device.StridedSum<T>(g, [outFeatures], [1], [rows], [outFeatures], gradBias.Buffer!);
            }
            return [gradInput, gradWeight, gradBias];
        }, input, weight, bias);
    }
}

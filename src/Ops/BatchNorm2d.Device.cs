namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.BatchNorm2d{T}"/>: the statistics, the saved
/// normalised input and the running-statistics update stay on the device; the same graph as on the CPU.</summary>
public static partial class Functional
{
    private static Tensor<T> BatchNorm2dOnDevice<T>(Tensor<T> input, Tensor<T>? runningMean, Tensor<T>? runningVar,
        Tensor<T>? weight, Tensor<T>? bias, bool training, double momentum, double eps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireSameDevice(nameof(runningMean), input, runningMean);
        RequireSameDevice(nameof(runningVar), input, runningVar);
        RequireSameDevice(nameof(weight), input, weight);
        RequireSameDevice(nameof(bias), input, bias);
        var device = input.Device;
        var ops = OpsDevice.For(device, "BatchNorm2d");
        var dims = input.ShapeArray;
        var shape = new BatchNormShape(dims[0], dims[1], dims[2] * dims[3]);
        int count = shape.Batch * shape.Plane;
        T epsilon = T.CreateChecked(eps);
        Tensor<T> mean, variance;
        if (training)
        {
            mean = Tensor<T>.Uninitialized(device, shape.Channels);
            variance = Tensor<T>.Uninitialized(device, shape.Channels);
            ops.BatchNormStatistics<T>(shape, OpsDevice.BufferOf(input), OpsDevice.BufferOf(mean), OpsDevice.BufferOf(variance));
        }
        else
        {
            // Copies, as the CPU takes: a later training step may update the running statistics before this backward.
            mean = runningMean!.Detach().Clone();
            variance = runningVar!.Detach().Clone();
        }
        var normalized = Tensor<T>.Uninitialized(device, dims);
        var output = Tensor<T>.Uninitialized(device, dims);
        ops.BatchNormForward(shape, OpsDevice.BufferOf(input), OpsDevice.BufferOf(mean), OpsDevice.BufferOf(variance),
            weight?.Buffer, bias?.Buffer, epsilon, OpsDevice.BufferOf(normalized), OpsDevice.BufferOf(output));
        if (training && count > 0 && runningMean is not null)
            ops.BatchNormUpdateRunning(shape.Channels, OpsDevice.BufferOf(runningMean), OpsDevice.BufferOf(runningVar!),
                OpsDevice.BufferOf(mean), OpsDevice.BufferOf(variance), T.CreateChecked(momentum),
                T.CreateChecked(count) / T.CreateChecked(count - 1));

        return Autograd.Record(output, "BatchNorm2d", (grad, needs) =>
        {
            var gradInput = needs[0] ? Tensor<T>.Uninitialized(device, dims) : null;
            var gradWeight = needs[1] ? Tensor<T>.Uninitialized(device, shape.Channels) : null;
            var gradBias = needs[2] ? Tensor<T>.Uninitialized(device, shape.Channels) : null;
            ops.BatchNormBackward(shape, OpsDevice.BufferOf(grad), OpsDevice.BufferOf(normalized), OpsDevice.BufferOf(variance),
                weight?.Buffer, epsilon, training, gradInput?.Buffer, gradWeight?.Buffer, gradBias?.Buffer);
            return [gradInput, gradWeight, gradBias];
        }, input, weight, bias);
    }
}

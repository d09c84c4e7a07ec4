namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.CrossEntropy{T}"/>: the targets are copied to the
/// device; probabilities and per-row losses are computed there and the losses reduced there.</summary>
public static partial class Functional
{
    private static Tensor<T> CrossEntropyOnDevice<T>(Tensor<T> logits, int[] targets, Reduction reduction)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = logits.Device;
        var ops = OpsDevice.For(device, "CrossEntropy");
        int n = logits.ShapeArray[0], classes = logits.ShapeArray[1];
        var labels = device.Allocate<int>(n);
        labels.Upload<int>(targets);
        var probabilities = Tensor<T>.Uninitialized(device, n, classes);
        var losses = Tensor<T>.Uninitialized(device, n);
        ops.CrossEntropy<T>(n, classes, OpsDevice.BufferOf(logits), labels, OpsDevice.BufferOf(probabilities), OpsDevice.BufferOf(losses));
        Tensor<T> output = reduction switch
        {
            Reduction.None => losses,
            Reduction.Sum => losses.Sum(),
            _ => losses.Sum().MulScalar(T.One / T.CreateChecked(n)),
        };
        return Autograd.Record(output, "CrossEntropy", (grad, _) =>
        {
            var gradLogits = Tensor<T>.Uninitialized(device, n, classes);
            ops.CrossEntropyBackward<T>(n, classes, OpsDevice.BufferOf(probabilities), labels, OpsDevice.BufferOf(grad), reduction,
                OpsDevice.BufferOf(gradLogits));
            return [gradLogits];
        }, logits);
    }
}

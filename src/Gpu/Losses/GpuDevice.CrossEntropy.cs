using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="ICrossEntropyBackend"/>: the targets are copied to the device; probabilities
/// and per-row losses are computed there and the losses reduced there (kernels: <see cref="CrossEntropyGpuKernels"/>).</summary>
public abstract partial class GpuDevice : ICrossEntropyBackend
{
    /// <inheritdoc />
    public OperatorOutput<T> CrossEntropy<T>(CrossEntropyParams parameters, Tensor<T> logits, int[] targets)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = parameters.Rows, classes = parameters.Classes;
        var labels = Table<int>(targets);
        var probabilities = Tensor<T>.Uninitialized(this, n, classes);
        var losses = Tensor<T>.Uninitialized(this, n);
        Launch<T, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<T>, int, int>(Items(n), typeof(CrossEntropyGpuKernels),
            nameof(CrossEntropyGpuKernels.Rows), Elements(logits), labels.View<int>(), Elements(probabilities), Elements(losses), n, classes);
        Tensor<T> output = parameters.Reduction switch
        {
            Reduction.None => losses,
            Reduction.Sum => SumToShape(losses, []),
            _ => Scalar(ScalarFunction.Mul, SumToShape(losses, []), T.One / T.CreateChecked(n)),
        };
        return new(output, (probabilities, (DeviceBuffer)labels));
    }

    /// <inheritdoc />
    public Tensor<T> CrossEntropyBackward<T>(CrossEntropyParams parameters, Tensor<T> gradOutput, object? saved)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (probabilities, labels) = ((Tensor<T>, DeviceBuffer))saved!;
        var gradLogits = Tensor<T>.Uninitialized(this, parameters.Rows, parameters.Classes);
        Launch<T, ArrayView<T>, ArrayView<int>, ArrayView<T>, int, ArrayView<T>, int, int>(Items((long)parameters.Rows * parameters.Classes),
            typeof(CrossEntropyGpuKernels), nameof(CrossEntropyGpuKernels.Backward), Elements(probabilities), View<int>(labels),
            Elements(gradOutput), (int)parameters.Reduction, Elements(gradLogits), parameters.Rows, parameters.Classes);
        return gradLogits;
    }
}

using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="ICrossEntropyBackend"/>: the targets are copied to the device; probabilities
/// and per-row losses are computed there and the losses reduced there (kernels: <see cref="CrossEntropyGpuKernels"/>).</summary>
public abstract partial class GpuDevice : ICrossEntropyBackend
{
    public OperatorOutput<T> CrossEntropy<T>(CrossEntropyParams parameters, Tensor<T> logits, int[] targets)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = parameters.Rows, classes = parameters.Classes;
        var labels = Allocate<int>(n);
        labels.Upload<int>(targets);
        var probabilities = Tensor<T>.Uninitialized(this, n, classes);
        var losses = Tensor<T>.Uninitialized(this, n);
        CrossEntropy<T>(n, classes, logits.Buffer!, labels, probabilities.Buffer!, losses.Buffer!);
        Tensor<T> output = parameters.Reduction switch
        {
            Reduction.None => losses,
            Reduction.Sum => SumToShape(losses, []),
            _ => Scalar(ScalarFunction.Mul, SumToShape(losses, []), T.One / T.CreateChecked(n)),
        };
        return new(output, (probabilities, labels));
    }

    public Tensor<T> CrossEntropyBackward<T>(CrossEntropyParams parameters, Tensor<T> gradOutput, object? saved)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (probabilities, labels) = ((Tensor<T>, DeviceBuffer))saved!;
        var gradLogits = Tensor<T>.Uninitialized(this, parameters.Rows, parameters.Classes);
        CrossEntropyBackward<T>(parameters.Rows, parameters.Classes, probabilities.Buffer!, labels, gradOutput.Buffer!,
            parameters.Reduction, gradLogits.Buffer!);
        return gradLogits;
    }

    private void CrossEntropy<T>(int rows, int classes, DeviceBuffer logits, DeviceBuffer targets, DeviceBuffer probabilities,
        DeviceBuffer losses)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Kernel<T>(CrossEntropyGpuKernels.SourceName, CrossEntropyGpuKernels.Source, "cross_entropy_rows").Launch(rows,
            [Native(logits), Native(targets), Native(probabilities), Native(losses), rows, classes]);

    private void CrossEntropyBackward<T>(int rows, int classes, DeviceBuffer probabilities, DeviceBuffer targets,
        DeviceBuffer gradOutput, Reduction reduction, DeviceBuffer gradLogits)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Kernel<T>(CrossEntropyGpuKernels.SourceName, CrossEntropyGpuKernels.Source, "cross_entropy_backward").Launch((long)rows * classes,
            [Native(probabilities), Native(targets), Native(gradOutput), (int)reduction, Native(gradLogits), rows, classes]);
}

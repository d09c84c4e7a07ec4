using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IBatchNorm2dBackend"/>: the statistics, the saved normalised input and the
/// running-statistics update stay on the device (kernels: <see cref="BatchNorm2dGpuKernels"/>); the per-channel sums
/// run in a fixed order, so forward and backward are deterministic.</summary>
public abstract partial class GpuDevice : IBatchNorm2dBackend
{
    /// <inheritdoc />
    public OperatorOutput<T> BatchNorm2d<T>(BatchNorm2dParams parameters, Tensor<T> input, Tensor<T>? runningMean,
        Tensor<T>? runningVar, Tensor<T>? weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dims = input.ShapeArray;
        Tensor<T> mean, variance;
        if (parameters.Training)
        {
            mean = Tensor<T>.Uninitialized(this, parameters.Channels);
            variance = Tensor<T>.Uninitialized(this, parameters.Channels);
            T inverseCount = T.One / T.CreateChecked((long)parameters.Batch * parameters.Plane);
            ChannelSums(ChannelTerm.Value, parameters.Batch, parameters.Channels, parameters.Plane, Elements(input), null, null,
                Elements(mean), inverseCount);
            ChannelSums(ChannelTerm.CenteredSquare, parameters.Batch, parameters.Channels, parameters.Plane, Elements(input), null,
                Elements(mean), Elements(variance), inverseCount);
        }
        else
        {
            // Copies, as the CPU takes: a later training step may update the running statistics before this backward.
            mean = Clone(runningMean!);
            variance = Clone(runningVar!);
        }
        var normalized = Tensor<T>.Uninitialized(this, dims);
        var output = Tensor<T>.Uninitialized(this, dims);
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, ArrayView<T>, ArrayView<T>, BatchNormArgs>(
            Items(output.Numel), typeof(BatchNorm2dGpuKernels), nameof(BatchNorm2dGpuKernels.Forward),
            Elements(input), Elements(mean), Elements(variance), ViewOrPlaceholder<T>(weight?.Buffer), ViewOrPlaceholder<T>(bias?.Buffer),
            T.CreateChecked(parameters.Eps), Elements(normalized), Elements(output), Args(parameters, output.Numel, weight, bias));
        if (parameters.Training && parameters.Count > 0 && runningMean is not null)
            Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, T, int>(Items(parameters.Channels), typeof(BatchNorm2dGpuKernels),
                nameof(BatchNorm2dGpuKernels.UpdateRunning), Elements(runningMean), Elements(runningVar!), Elements(mean), Elements(variance),
                T.CreateChecked(parameters.Momentum), T.CreateChecked(parameters.Count) / T.CreateChecked(parameters.Count - 1), parameters.Channels);
        return new(output, (normalized, variance));
    }

    /// <inheritdoc />
    public Tensor<T>?[] BatchNorm2dBackward<T>(BatchNorm2dParams parameters, Tensor<T> gradOutput, Tensor<T>? weight,
        object? saved, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (normalized, variance) = ((Tensor<T>, Tensor<T>))saved!;
        var gradInput = needs[0] ? Tensor<T>.Uninitialized(this, gradOutput.ShapeArray) : null;
        // The sums are the bias and weight gradients; a tensor stands in for one not asked for.
        var sumWeighted = needs[1] ? Tensor<T>.Uninitialized(this, parameters.Channels) : null;
        var sumGrad = needs[2] ? Tensor<T>.Uninitialized(this, parameters.Channels) : null;
        var sums = (sumGrad ?? Tensor<T>.Uninitialized(this, parameters.Channels), sumWeighted ?? Tensor<T>.Uninitialized(this, parameters.Channels));
        ChannelSums(ChannelTerm.Value, parameters.Batch, parameters.Channels, parameters.Plane, Elements(gradOutput), null, null,
            Elements(sums.Item1), T.One);
        ChannelSums(ChannelTerm.Product, parameters.Batch, parameters.Channels, parameters.Plane, Elements(gradOutput), Elements(normalized),
            null, Elements(sums.Item2), T.One);
        if (gradInput is not null)
            Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, ArrayView<T>, ArrayView<T>, T, ArrayView<T>, BatchNormArgs>(
                Items(gradInput.Numel), typeof(BatchNorm2dGpuKernels), nameof(BatchNorm2dGpuKernels.Backward),
                Elements(gradOutput), Elements(normalized), Elements(variance), ViewOrPlaceholder<T>(weight?.Buffer), T.CreateChecked(parameters.Eps),
                Elements(sums.Item1), Elements(sums.Item2), T.CreateChecked((long)parameters.Batch * parameters.Plane), Elements(gradInput),
                Args(parameters, gradInput.Numel, weight, null));
        return [gradInput, sumWeighted, sumGrad];
    }

    private static BatchNormArgs Args<T>(BatchNorm2dParams parameters, long count, Tensor<T>? weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(parameters.Channels, parameters.Plane, count, weight is null ? 0 : 1, bias is null ? 0 : 1, parameters.Training ? 1 : 0);
}

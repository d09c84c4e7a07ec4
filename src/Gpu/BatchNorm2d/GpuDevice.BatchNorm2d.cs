using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IBatchNorm2dBackend"/>: the statistics, the saved normalised input and the
/// running-statistics update stay on the device (kernels: <see cref="BatchNorm2dGpuKernels"/>); the backward is
/// per-channel sums and an elementwise map, deterministic.</summary>
public abstract partial class GpuDevice : IBatchNorm2dBackend
{
    public OperatorOutput<T> BatchNorm2d<T>(BatchNorm2dParams parameters, Tensor<T> input, Tensor<T>? runningMean,
        Tensor<T>? runningVar, Tensor<T>? weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dims = input.ShapeArray;
        T epsilon = T.CreateChecked(parameters.Eps);
        Tensor<T> mean, variance;
        if (parameters.Training)
        {
            mean = Tensor<T>.Uninitialized(this, parameters.Channels);
            variance = Tensor<T>.Uninitialized(this, parameters.Channels);
            BatchNormStatistics<T>(parameters, input.Buffer!, mean.Buffer!, variance.Buffer!);
        }
        else
        {
            // Copies, as the CPU takes: a later training step may update the running statistics before this backward.
            mean = Clone(runningMean!);
            variance = Clone(runningVar!);
        }
        var normalized = Tensor<T>.Uninitialized(this, dims);
        var output = Tensor<T>.Uninitialized(this, dims);
        BatchNormForward(parameters, input.Buffer!, mean.Buffer!, variance.Buffer!, weight?.Buffer, bias?.Buffer, epsilon,
            normalized.Buffer!, output.Buffer!);
        if (parameters.Training && parameters.Count > 0 && runningMean is not null)
            BatchNormUpdateRunning(parameters.Channels, runningMean.Buffer!, runningVar!.Buffer!, mean.Buffer!, variance.Buffer!,
                T.CreateChecked(parameters.Momentum), T.CreateChecked(parameters.Count) / T.CreateChecked(parameters.Count - 1));
        return new(output, (normalized, variance));
    }

    public Tensor<T>?[] BatchNorm2dBackward<T>(BatchNorm2dParams parameters, Tensor<T> gradOutput, Tensor<T>? weight,
        object? saved, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (normalized, variance) = ((Tensor<T>, Tensor<T>))saved!;
        var gradInput = needs[0] ? Tensor<T>.Uninitialized(this, gradOutput.ShapeArray) : null;
        var gradWeight = needs[1] ? Tensor<T>.Uninitialized(this, parameters.Channels) : null;
        var gradBias = needs[2] ? Tensor<T>.Uninitialized(this, parameters.Channels) : null;
        BatchNormBackward(parameters, gradOutput.Buffer!, normalized.Buffer!, variance.Buffer!, weight?.Buffer,
            T.CreateChecked(parameters.Eps), parameters.Training, gradInput?.Buffer, gradWeight?.Buffer, gradBias?.Buffer);
        return [gradInput, gradWeight, gradBias];
    }

    private void BatchNormStatistics<T>(BatchNorm2dParams shape, DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        BatchNorm<T>("batch_norm_statistics").Launch((long)shape.Channels * BatchNorm2dGpuKernels.GroupSize,
            [Native(input), Native(mean), Native(variance), shape.Batch, shape.Channels, (long)shape.Plane], BatchNorm2dGpuKernels.GroupSize);

    private void BatchNormForward<T>(BatchNorm2dParams shape, DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance,
        DeviceBuffer? weight, DeviceBuffer? bias, T eps, DeviceBuffer normalized, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        BatchNorm<T>("batch_norm_forward").Launch(shape.Elements,
        [
            Native(input), Native(mean), Native(variance), NativeOrPlaceholder(weight), Flag(weight is not null),
            NativeOrPlaceholder(bias), Flag(bias is not null), Real(eps), Native(normalized), Native(output),
            shape.Channels, (long)shape.Plane, shape.Elements,
        ]);

    private void BatchNormUpdateRunning<T>(int channels, DeviceBuffer runningMean, DeviceBuffer runningVar, DeviceBuffer mean,
        DeviceBuffer variance, T momentum, T unbias)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        BatchNorm<T>("batch_norm_update_running").Launch(channels,
            [Native(runningMean), Native(runningVar), Native(mean), Native(variance), Real(momentum), Real(unbias), channels]);

    private void BatchNormBackward<T>(BatchNorm2dParams shape, DeviceBuffer gradOutput, DeviceBuffer normalized, DeviceBuffer variance,
        DeviceBuffer? weight, T eps, bool training, DeviceBuffer? gradInput, DeviceBuffer? gradWeight, DeviceBuffer? gradBias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long bytes = (long)shape.Channels * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        // The sums are the bias and weight gradients; scratch stands in for one not asked for.
        using GpuBuffer? sumGradScratch = gradBias is null ? Scratch(bytes) : null;
        using GpuBuffer? sumWeightedScratch = gradWeight is null ? Scratch(bytes) : null;
        GpuBuffer sumGrad = sumGradScratch ?? Native(gradBias!), sumWeighted = sumWeightedScratch ?? Native(gradWeight!);
        BatchNorm<T>("batch_norm_grad_sums").Launch((long)shape.Channels * BatchNorm2dGpuKernels.GroupSize,
            [Native(gradOutput), Native(normalized), sumGrad, sumWeighted, shape.Batch, shape.Channels, (long)shape.Plane],
            BatchNorm2dGpuKernels.GroupSize);
        if (gradInput is not null)
            BatchNorm<T>("batch_norm_backward").Launch(shape.Elements,
            [
                Native(gradOutput), Native(normalized), Native(variance), NativeOrPlaceholder(weight), Flag(weight is not null),
                Real(eps), sumGrad, sumWeighted, Flag(training), Real<T>((double)shape.Batch * shape.Plane), Native(gradInput),
                shape.Channels, (long)shape.Plane, shape.Elements,
            ]);
    }

    private GpuKernel BatchNorm<T>(string name) => Kernel<T>(BatchNorm2dGpuKernels.SourceName, BatchNorm2dGpuKernels.Source, name);
}

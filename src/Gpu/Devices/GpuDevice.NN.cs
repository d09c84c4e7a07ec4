using System.Numerics;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The NN primitives of <see cref="IOpsDevice"/> as kernels of <see cref="MaxPool2dKernels"/>,
/// <see cref="AveragePoolingKernels"/>, <see cref="BatchNorm2dKernels"/> and <see cref="CrossEntropyKernels"/>.
/// Every backward here is a gather or an elementwise map: deterministic in both modes.</summary>
public abstract partial class GpuDevice
{
    public void MaxPool2d<T>(Pool2dShape shape, DeviceBuffer input, DeviceBuffer output, DeviceBuffer argmax)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Kernel<T>(MaxPool2dKernels.SourceName, MaxPool2dKernels.Source, "max_pool2d").Launch(shape.OutputCount,
            [Native(input), Native(output), Native(argmax), .. PoolParams(shape)]);

    public void MaxPool2dBackward<T>(Pool2dShape shape, DeviceBuffer gradOutput, DeviceBuffer argmax, DeviceBuffer gradInput)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Kernel<T>(MaxPool2dKernels.SourceName, MaxPool2dKernels.Source, "max_pool2d_backward").Launch(shape.InputCount,
            [Native(gradOutput), Native(argmax), Native(gradInput), .. PoolParams(shape)]);

    public void AvgPool<T>(Pool2dShape shape, DeviceBuffer windows, DeviceBuffer input, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Kernel<T>(AveragePoolingKernels.SourceName, AveragePoolingKernels.Source, "avg_pool").Launch(shape.OutputCount,
            [Native(input), Native(windows), Native(output), shape.Planes, shape.Height, shape.Width, shape.OutH, shape.OutW]);

    public void AvgPoolBackward<T>(Pool2dShape shape, DeviceBuffer windows, DeviceBuffer gradOutput, DeviceBuffer gradInput)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Kernel<T>(AveragePoolingKernels.SourceName, AveragePoolingKernels.Source, "avg_pool_backward").Launch(shape.InputCount,
            [Native(gradOutput), Native(windows), Native(gradInput), shape.Planes, shape.Height, shape.Width, shape.OutH, shape.OutW]);

    public void BatchNormStatistics<T>(BatchNormShape shape, DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        BatchNorm<T>("batch_norm_statistics").Launch((long)shape.Channels * BatchNorm2dKernels.GroupSize,
            [Native(input), Native(mean), Native(variance), shape.Batch, shape.Channels, (long)shape.Plane], BatchNorm2dKernels.GroupSize);

    public void BatchNormForward<T>(BatchNormShape shape, DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance,
        DeviceBuffer? weight, DeviceBuffer? bias, T eps, DeviceBuffer normalized, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        BatchNorm<T>("batch_norm_forward").Launch(shape.Count,
        [
            Native(input), Native(mean), Native(variance), NativeOrPlaceholder(weight), Flag(weight is not null),
            NativeOrPlaceholder(bias), Flag(bias is not null), Real(eps), Native(normalized), Native(output),
            shape.Channels, (long)shape.Plane, shape.Count,
        ]);

    public void BatchNormUpdateRunning<T>(int channels, DeviceBuffer runningMean, DeviceBuffer runningVar, DeviceBuffer mean,
        DeviceBuffer variance, T momentum, T unbias)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        BatchNorm<T>("batch_norm_update_running").Launch(channels,
            [Native(runningMean), Native(runningVar), Native(mean), Native(variance), Real(momentum), Real(unbias), channels]);

    public void BatchNormBackward<T>(BatchNormShape shape, DeviceBuffer gradOutput, DeviceBuffer normalized, DeviceBuffer variance,
        DeviceBuffer? weight, T eps, bool training, DeviceBuffer? gradInput, DeviceBuffer? gradWeight, DeviceBuffer? gradBias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long bytes = (long)shape.Channels * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        // The sums are the bias and weight gradients; scratch stands in for one not asked for.
        using GpuBuffer? sumGradScratch = gradBias is null ? Scratch(bytes) : null;
        using GpuBuffer? sumWeightedScratch = gradWeight is null ? Scratch(bytes) : null;
        GpuBuffer sumGrad = sumGradScratch ?? Native(gradBias!), sumWeighted = sumWeightedScratch ?? Native(gradWeight!);
        BatchNorm<T>("batch_norm_grad_sums").Launch((long)shape.Channels * BatchNorm2dKernels.GroupSize,
            [Native(gradOutput), Native(normalized), sumGrad, sumWeighted, shape.Batch, shape.Channels, (long)shape.Plane],
            BatchNorm2dKernels.GroupSize);
        if (gradInput is not null)
            BatchNorm<T>("batch_norm_backward").Launch(shape.Count,
            [
                Native(gradOutput), Native(normalized), Native(variance), NativeOrPlaceholder(weight), Flag(weight is not null),
                Real(eps), sumGrad, sumWeighted, Flag(training), Real<T>((double)shape.Batch * shape.Plane), Native(gradInput),
                shape.Channels, (long)shape.Plane, shape.Count,
            ]);
    }

    public void CrossEntropy<T>(int rows, int classes, DeviceBuffer logits, DeviceBuffer targets, DeviceBuffer probabilities,
        DeviceBuffer losses)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Kernel<T>(CrossEntropyKernels.SourceName, CrossEntropyKernels.Source, "cross_entropy_rows").Launch(rows,
            [Native(logits), Native(targets), Native(probabilities), Native(losses), rows, classes]);

    public void CrossEntropyBackward<T>(int rows, int classes, DeviceBuffer probabilities, DeviceBuffer targets,
        DeviceBuffer gradOutput, Reduction reduction, DeviceBuffer gradLogits)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Kernel<T>(CrossEntropyKernels.SourceName, CrossEntropyKernels.Source, "cross_entropy_backward").Launch((long)rows * classes,
            [Native(probabilities), Native(targets), Native(gradOutput), (int)reduction, Native(gradLogits), rows, classes]);

    private GpuKernel BatchNorm<T>(string name) => Kernel<T>(BatchNorm2dKernels.SourceName, BatchNorm2dKernels.Source, name);

    /// <summary>The POOL_PARAMS of <see cref="MaxPool2dKernels"/>.</summary>
    private static KernelArg[] PoolParams(Pool2dShape shape) =>
    [
        shape.Planes, shape.Height, shape.Width, shape.OutH, shape.OutW, shape.KernelH, shape.KernelW,
        shape.StrideH, shape.StrideW, shape.PadH, shape.PadW,
    ];
}

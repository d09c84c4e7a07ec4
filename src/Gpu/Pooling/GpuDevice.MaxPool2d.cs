using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IMaxPool2dBackend"/> (kernels: <see cref="MaxPool2dGpuKernels"/>): the argmax of each
/// window stays on the device for the backward, a gather (deterministic).</summary>
public abstract partial class GpuDevice : IMaxPool2dBackend
{
    /// <inheritdoc />
    public OperatorOutput<T> MaxPool2d<T>(Pool2dParams parameters, Tensor<T> input) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var output = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.OutH, parameters.OutW);
        var argmax = Allocate<int>(parameters.OutputCount);
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<int>, PoolArgs>(Items(parameters.OutputCount), typeof(MaxPool2dGpuKernels),
            nameof(MaxPool2dGpuKernels.Forward), Elements(input), Elements(output), View<int>(argmax), PoolArgs.Of(parameters));
        return new(output, argmax);
    }

    /// <inheritdoc />
    public Tensor<T> MaxPool2dBackward<T>(Pool2dParams parameters, Tensor<T> gradOutput, object? saved)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gradInput = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.Height, parameters.Width);
        Launch<T, ArrayView<T>, ArrayView<int>, ArrayView<T>, PoolArgs>(Items(parameters.InputCount), typeof(MaxPool2dGpuKernels),
            nameof(MaxPool2dGpuKernels.Backward), Elements(gradOutput), View<int>((DeviceBuffer)saved!), Elements(gradInput), PoolArgs.Of(parameters));
        return gradInput;
    }
}

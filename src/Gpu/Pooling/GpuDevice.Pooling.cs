using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IMaxPool2dBackend"/> (the argmax of each window stays on the device for
/// the backward) and <see cref="IAvgPool2dBackend"/> (the windows as an int table on the device). Both
/// backward passes are gathers: deterministic.</summary>
public abstract partial class GpuDevice : IMaxPool2dBackend, IAvgPool2dBackend
{
    public OperatorOutput<T> MaxPool2d<T>(Pool2dParams parameters, Tensor<T> input) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var output = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.OutH, parameters.OutW);
        var argmax = Allocate<int>(parameters.OutputCount);
        Kernel<T>(MaxPool2dGpuKernels.SourceName, MaxPool2dGpuKernels.Source, "max_pool2d").Launch(parameters.OutputCount,
            [Native(input.Buffer!), Native(output.Buffer!), Native(argmax), .. PoolParams(parameters)]);
        return new(output, argmax);
    }

    public Tensor<T> MaxPool2dBackward<T>(Pool2dParams parameters, Tensor<T> gradOutput, object? saved)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gradInput = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.Height, parameters.Width);
        Kernel<T>(MaxPool2dGpuKernels.SourceName, MaxPool2dGpuKernels.Source, "max_pool2d_backward").Launch(parameters.InputCount,
            [Native(gradOutput.Buffer!), Native((DeviceBuffer)saved!), Native(gradInput.Buffer!), .. PoolParams(parameters)]);
        return gradInput;
    }

    public Tensor<T> AvgPool2d<T>(Pool2dParams parameters, PoolWindow[] windows, Tensor<T> input)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        var output = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.OutH, parameters.OutW);
        Kernel<T>(AvgPool2dGpuKernels.SourceName, AvgPool2dGpuKernels.Source, "avg_pool").Launch(parameters.OutputCount,
            [Native(input.Buffer!), table, Native(output.Buffer!), .. PlaneParams(parameters)]);
        return output;
    }

    public Tensor<T> AvgPool2dBackward<T>(Pool2dParams parameters, PoolWindow[] windows, Tensor<T> gradOutput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        var gradInput = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.Height, parameters.Width);
        Kernel<T>(AvgPool2dGpuKernels.SourceName, AvgPool2dGpuKernels.Source, "avg_pool_backward").Launch(parameters.InputCount,
            [Native(gradOutput.Buffer!), table, Native(gradInput.Buffer!), .. PlaneParams(parameters)]);
        return gradInput;
    }

    /// <summary>windows as [OutH·OutW, 6] ints: y start, y end, x start, x end, and the divisor as two factors
    /// rows · columns, multiplied in 64 bits.</summary>
    private GpuBuffer WindowTable(PoolWindow[] windows)
    {
        var table = new int[windows.Length * 6];
        for (int k = 0; k < windows.Length; k++)
        {
            var (yStart, yEnd, xStart, xEnd, divisorRows, divisorColumns) = windows[k];
            int[] row = [yStart, yEnd, xStart, xEnd, divisorRows, divisorColumns];
            row.CopyTo(table, k * 6);
        }
        return Ints(table);
    }

    private static KernelArg[] PlaneParams(Pool2dParams parameters) =>
        [parameters.Planes, parameters.Height, parameters.Width, parameters.OutH, parameters.OutW];

    /// <summary>The POOL_PARAMS of <see cref="MaxPool2dGpuKernels"/>.</summary>
    private static KernelArg[] PoolParams(Pool2dParams parameters) =>
    [
        parameters.Planes, parameters.Height, parameters.Width, parameters.OutH, parameters.OutW, parameters.KernelH, parameters.KernelW,
        parameters.StrideH, parameters.StrideW, parameters.PadH, parameters.PadW,
    ];
}

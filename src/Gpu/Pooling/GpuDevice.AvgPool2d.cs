using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IAvgPool2dBackend"/> (kernels: <see cref="AvgPool2dGpuKernels"/>): the windows as an int
/// table on the device; the backward is a gather (deterministic).</summary>
public abstract partial class GpuDevice : IAvgPool2dBackend
{
    /// <inheritdoc />
    public Tensor<T> AvgPool2d<T>(Pool2dParams parameters, PoolWindow[] windows, Tensor<T> input)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        var output = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.OutH, parameters.OutW);
        Launch<T, ArrayView<T>, ArrayView<int>, ArrayView<T>, PoolArgs>(Items(parameters.OutputCount), typeof(AvgPool2dGpuKernels),
            nameof(AvgPool2dGpuKernels.Forward), Elements(input), table.View<int>(), Elements(output), PoolArgs.Of(parameters));
        return output;
    }

    /// <inheritdoc />
    public Tensor<T> AvgPool2dBackward<T>(Pool2dParams parameters, PoolWindow[] windows, Tensor<T> gradOutput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        var gradInput = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.Height, parameters.Width);
        Launch<T, ArrayView<T>, ArrayView<int>, ArrayView<T>, PoolArgs>(Items(parameters.InputCount), typeof(AvgPool2dGpuKernels),
            nameof(AvgPool2dGpuKernels.Backward), Elements(gradOutput), table.View<int>(), Elements(gradInput), PoolArgs.Of(parameters));
        return gradInput;
    }

    /// <summary>windows as [OutH·OutW, 6] ints: y start, y end, x start, x end, and the divisor as two factors
    /// rows · columns, multiplied in 64 bits by the kernels.</summary>
    private GpuDeviceBuffer WindowTable(PoolWindow[] windows)
    {
        const int width = AvgPool2dGpuKernels.WindowInts;
        var table = new int[windows.Length * width];
        for (int k = 0; k < windows.Length; k++)
        {
            var (yStart, yEnd, xStart, xEnd, divisorRows, divisorColumns) = windows[k];
            int[] row = [yStart, yEnd, xStart, xEnd, divisorRows, divisorColumns];
            row.CopyTo(table, k * width);
        }
        return Table<int>(table);
    }
}

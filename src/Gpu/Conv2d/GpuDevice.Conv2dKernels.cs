using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>Launches of the convolution kernels (<see cref="Conv2dGpuKernels"/>): im2col, col2im, bias and
/// its gradient.</summary>
public abstract partial class GpuDevice
{
    internal void AddBias<T>(DeviceBuffer output, DeviceBuffer bias, int batch, int channels, int plane)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = (long)batch * channels * plane;
        Conv<T>("add_bias").Launch(count, [Native(output), Native(bias), channels, (long)plane, count]);
    }

    internal void BiasGrad<T>(DeviceBuffer gradOutput, DeviceBuffer gradBias, int batch, int channels, int plane)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Conv<T>("bias_grad").Launch((long)channels * Conv2dGpuKernels.BiasGroupSize,
            [Native(gradOutput), Native(gradBias), batch, channels, (long)plane], Conv2dGpuKernels.BiasGroupSize);

    internal void Im2Col<T>(Conv2dParams cp, DeviceBuffer input, int firstImage, int images, DeviceBuffer columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = (long)images * cp.ColumnRows * cp.ColumnCols;
        Conv<T>("im2col").Launch(count, [Native(input), Native(columns), firstImage, images, .. Geometry(cp)]);
    }

    internal void Col2Im<T>(Conv2dParams cp, DeviceBuffer columns, int firstImage, int images, DeviceBuffer gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = (long)images * cp.InChannels * cp.Height * cp.Width;
        Conv<T>("col2im").Launch(count, [Native(columns), Native(gradInput), firstImage, images, .. Geometry(cp)]);
    }

    private GpuKernel Conv<T>(string name) => Kernel<T>(Conv2dGpuKernels.SourceName, Conv2dGpuKernels.Source, name);

    /// <summary>channels, height, width, kernel_h, kernel_w, out_h, out_w, stride, pad, dilation (h, w each).</summary>
    private static KernelArg[] Geometry(Conv2dParams cp) =>
    [
        cp.InChannels, cp.Height, cp.Width, cp.KernelH, cp.KernelW, cp.OutH, cp.OutW,
        cp.Stride.H, cp.Stride.W, cp.Padding.H, cp.Padding.W, cp.Dilation.H, cp.Dilation.W,
    ];
}

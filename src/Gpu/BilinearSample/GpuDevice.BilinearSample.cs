using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IBilinearSampleBackend"/> (kernels: <see cref="BilinearSampleGpuKernels"/>).</summary>
public abstract partial class GpuDevice : IBilinearSampleBackend
{
    public Tensor<T> BilinearSample<T>(BilinearSampleParams parameters, Tensor<T> input, Tensor<T> coords)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var output = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.Points);
        LaunchBilinearSample<T>(parameters, input.Buffer!, coords.Buffer!, output.Buffer!);
        return output;
    }

    public Tensor<T>?[] BilinearSampleBackward<T>(BilinearSampleParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> coords, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gradInput = needs[0] ? Tensor<T>.Uninitialized(this, input.ShapeArray) : null;
        var gradCoords = needs[1] ? Tensor<T>.Uninitialized(this, coords.ShapeArray) : null;
        LaunchBilinearSampleBackward<T>(parameters, gradOutput.Buffer!, input.Buffer!, coords.Buffer!, gradInput?.Buffer, gradCoords?.Buffer);
        return [gradInput, gradCoords];
    }

    private void LaunchBilinearSample<T>(BilinearSampleParams shape, DeviceBuffer input, DeviceBuffer coords, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Bilinear<T>("bilinear_sample").Launch((long)shape.Batch * shape.Channels * shape.Points,
            [Native(input), Native(coords), Native(output), shape.Batch, shape.Channels, shape.Height, shape.Width, shape.Points]);

    private void LaunchBilinearSampleBackward<T>(BilinearSampleParams shape, DeviceBuffer gradOutput, DeviceBuffer input,
        DeviceBuffer coords, DeviceBuffer? gradInput, DeviceBuffer? gradCoords)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GpuBuffer upstream = Native(gradOutput);
        long cells = (long)shape.Batch * shape.Channels * shape.Height * shape.Width;
        // Each of a plane's points reaches a cell through at most one corner, with a coefficient ≤ 1.
        double Bound() => shape.Points * MaxAbs<T>(upstream, (long)shape.Batch * shape.Channels * shape.Points);
        Scatter<T>(gradInput, 0, cells, Bound, (mode, fixedCells, scale) =>
            Bilinear<T>("bilinear_sample_backward").Launch((long)shape.Batch * shape.Points,
            [
                upstream, Native(input), Native(coords),
                NativeOrPlaceholder(gradInput), fixedCells, mode, Real<T>(scale),
                NativeOrPlaceholder(gradCoords), Flag(gradCoords is not null),
                shape.Batch, shape.Channels, shape.Height, shape.Width, shape.Points,
            ]));
    }

    private GpuKernel Bilinear<T>(string name) => Kernel<T>(BilinearSampleGpuKernels.SourceName, BilinearSampleGpuKernels.Source, name);
}

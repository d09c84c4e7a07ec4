using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IDeformRoIPoolBackend"/> (kernels: <see cref="DeformRoIPoolGpuKernels"/>): the
/// host-built RoI Align windows as a table; the input gradient is a scatter through <see cref="Scatter{T}"/>, the
/// offset gradient a gather per bin.</summary>
public abstract partial class GpuDevice : IDeformRoIPoolBackend
{
    public Tensor<T> DeformRoIPool<T>(DeformRoIPoolParams parameters, Tensor<T> input, RoIWindow<T>[] windows, Tensor<T>? offset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        var output = Tensor<T>.Uninitialized(this, parameters.Rois, parameters.Channels, parameters.PooledH, parameters.PooledW);
        LaunchDeformRoIPool(parameters, input.Buffer!, table, offset?.Buffer, T.CreateChecked(parameters.Gamma), output.Buffer!);
        return output;
    }

    public Tensor<T>?[] DeformRoIPoolBackward<T>(DeformRoIPoolParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        RoIWindow<T>[] windows, Tensor<T>? offset, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        var gradInput = needs[0] ? Tensor<T>.Uninitialized(this, input.ShapeArray) : null;
        var gradOffset = offset is not null && needs[1] ? Tensor<T>.Uninitialized(this, offset.ShapeArray) : null;
        LaunchDeformRoIPoolBackward(parameters, gradOutput.Buffer!, input.Buffer!, table, offset?.Buffer,
            T.CreateChecked(parameters.Gamma), gradInput?.Buffer, gradOffset?.Buffer);
        return [gradInput, gradOffset];
    }

    private void LaunchDeformRoIPool<T>(DeformRoIPoolParams shape, DeviceBuffer input, GpuBuffer windows, DeviceBuffer? offset, T gamma,
        DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        DeformRoI<T>("deform_roi_pool").Launch((long)shape.Rois * shape.Channels * shape.Bins,
            [Native(input), windows, NativeOrPlaceholder(offset), Flag(offset is not null), Real(gamma), Native(output), .. Sizes(shape)]);

    private void LaunchDeformRoIPoolBackward<T>(DeformRoIPoolParams shape, DeviceBuffer gradOutput, DeviceBuffer input, GpuBuffer windows,
        DeviceBuffer? offset, T gamma, DeviceBuffer? gradInput, DeviceBuffer? gradOffset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long outputs = (long)shape.Rois * shape.Channels * shape.Bins;
        GpuBuffer upstream = Native(gradOutput);
        if (gradInput is not null)
        {
            double Bound() => (double)shape.Rois * shape.Bins * MaxAbs<T>(upstream, outputs);
            Scatter<T>(gradInput, 0, shape.InputCount, Bound, (mode, fixedCells, scale) =>
                DeformRoI<T>("deform_roi_pool_backward_input").Launch(outputs,
                [
                    upstream, windows, NativeOrPlaceholder(offset), Flag(offset is not null), Real(gamma),
                    Native(gradInput), fixedCells, mode, Real<T>(scale), .. Sizes(shape),
                ]));
        }
        if (gradOffset is null) return;
        if (offset is null) throw new ArgumentNullException(nameof(offset), "An offset gradient needs the offset.");
        DeformRoI<T>("deform_roi_pool_backward_offset").Launch((long)shape.Rois * shape.Bins,
            [upstream, Native(input), windows, Native(offset), Real(gamma), Native(gradOffset), .. Sizes(shape)]);
    }

    private GpuKernel DeformRoI<T>(string name) => Kernel<T>(DeformRoIPoolGpuKernels.SourceName, DeformRoIPoolGpuKernels.Source, name);

    /// <summary>channels, height, width, rois, pooled_h, pooled_w.</summary>
    private static KernelArg[] Sizes(DeformRoIPoolParams shape) =>
        [shape.Channels, shape.Height, shape.Width, shape.Rois, shape.PooledH, shape.PooledW];
}

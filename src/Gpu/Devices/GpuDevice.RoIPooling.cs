using System.Numerics;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The RoI pooling primitives of <see cref="IOpsDevice"/> as kernels of <see cref="RoIAlignKernels"/>,
/// <see cref="PSRoIAlignKernels"/>, <see cref="DeformRoIPoolKernels"/> and <see cref="DeformPSRoIPoolKernels"/>.
/// Input gradients are scatters through <see cref="Scatter{T}"/> (float atomics, or fixed point in
/// deterministic mode); every bin's samples carry coefficients that sum to at most 1, so a cell's
/// sum is bounded by (bins reading its plane) × max |∂L/∂out|.</summary>
public abstract partial class GpuDevice
{
    public void RoIAlign<T>(RoIPoolShape shape, DeviceBuffer input, DeviceBuffer windows, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Kernel<T>(RoIAlignKernels.SourceName, RoIAlignKernels.Source, "roi_align").Launch(
            (long)shape.Rois * shape.Channels * shape.Bins,
            [Native(input), Native(windows), Native(output), .. Sizes(shape)]);

    public void RoIAlignBackward<T>(RoIPoolShape shape, DeviceBuffer gradOutput, DeviceBuffer windows, DeviceBuffer gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long outputs = (long)shape.Rois * shape.Channels * shape.Bins;
        GpuBuffer upstream = Native(gradOutput);
        // A plane is read by every bin of every RoI.
        double Bound() => (double)shape.Rois * shape.Bins * MaxAbs<T>(upstream, outputs);
        Scatter<T>(gradInput, 0, shape.InputCount, Bound, (mode, fixedCells, scale) =>
            Kernel<T>(RoIAlignKernels.SourceName, RoIAlignKernels.Source, "roi_align_backward").Launch(outputs,
                [upstream, Native(windows), Native(gradInput), fixedCells, mode, Real<T>(scale), .. Sizes(shape)]));
    }

    public void PSRoIAlign<T>(RoIPoolShape shape, DeviceBuffer input, DeviceBuffer windows, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Kernel<T>(PSRoIAlignKernels.SourceName, PSRoIAlignKernels.Source, "ps_roi_align").Launch(
            (long)shape.Rois * shape.Channels,
            [Native(input), Native(windows), Native(output), .. Sizes(shape)]);

    public void PSRoIAlignBackward<T>(RoIPoolShape shape, DeviceBuffer gradOutput, DeviceBuffer windows, DeviceBuffer gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long outputs = (long)shape.Rois * shape.Channels;
        GpuBuffer upstream = Native(gradOutput);
        // A plane is read by one bin of every RoI.
        double Bound() => (double)shape.Rois * MaxAbs<T>(upstream, outputs);
        Scatter<T>(gradInput, 0, shape.InputCount, Bound, (mode, fixedCells, scale) =>
            Kernel<T>(PSRoIAlignKernels.SourceName, PSRoIAlignKernels.Source, "ps_roi_align_backward").Launch(outputs,
                [upstream, Native(windows), Native(gradInput), fixedCells, mode, Real<T>(scale), .. Sizes(shape)]));
    }

    public void DeformRoIPool<T>(RoIPoolShape shape, DeviceBuffer input, DeviceBuffer windows, DeviceBuffer? offset, T gamma,
        DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        DeformRoI<T>("deform_roi_pool").Launch((long)shape.Rois * shape.Channels * shape.Bins,
            [Native(input), Native(windows), NativeOrPlaceholder(offset), Flag(offset is not null), Real(gamma), Native(output), .. Sizes(shape)]);

    public void DeformRoIPoolBackward<T>(RoIPoolShape shape, DeviceBuffer gradOutput, DeviceBuffer input, DeviceBuffer windows,
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
                    upstream, Native(windows), NativeOrPlaceholder(offset), Flag(offset is not null), Real(gamma),
                    Native(gradInput), fixedCells, mode, Real<T>(scale), .. Sizes(shape),
                ]));
        }
        if (gradOffset is null) return;
        if (offset is null) throw new ArgumentNullException(nameof(offset), "An offset gradient needs the offset.");
        DeformRoI<T>("deform_roi_pool_backward_offset").Launch((long)shape.Rois * shape.Bins,
            [upstream, Native(input), Native(windows), Native(offset), Real(gamma), Native(gradOffset), .. Sizes(shape)]);
    }

    public void DeformPSRoIPool<T>(DeformPSRoIPoolShape shape, DeviceBuffer input, DeviceBuffer roiTable, DeviceBuffer? trans,
        DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        DeformPS<T>("deform_ps_roi_pool").Launch(PSOutputs(shape),
            [Native(input), Native(roiTable), NativeOrPlaceholder(trans), Flag(trans is not null), Native(output), .. Sizes<T>(shape)]);

    public void DeformPSRoIPoolBackward<T>(DeformPSRoIPoolShape shape, DeviceBuffer gradOutput, DeviceBuffer input,
        DeviceBuffer roiTable, DeviceBuffer? trans, DeviceBuffer? gradInput, DeviceBuffer? gradTrans)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long outputs = PSOutputs(shape);
        GpuBuffer upstream = Native(gradOutput);
        if (gradInput is not null)
        {
            // A plane (one position-sensitive group of one output channel) is read by at most every bin of every RoI.
            double Bound() => (double)shape.Rois * shape.PooledSize * shape.PooledSize * MaxAbs<T>(upstream, outputs);
            Scatter<T>(gradInput, 0, shape.InputCount, Bound, (mode, fixedCells, scale) =>
                DeformPS<T>("deform_ps_roi_pool_backward_input").Launch(outputs,
                [
                    upstream, Native(roiTable), NativeOrPlaceholder(trans), Flag(trans is not null),
                    Native(gradInput), fixedCells, mode, Real<T>(scale), .. Sizes<T>(shape),
                ]));
        }
        if (gradTrans is null) return;
        if (trans is null) throw new ArgumentNullException(nameof(trans), "A trans gradient needs trans.");
        DeformPS<T>("deform_ps_roi_pool_backward_trans").Launch((long)shape.Rois * shape.Classes * shape.Parts * shape.Parts,
            [upstream, Native(input), Native(roiTable), Native(trans), Native(gradTrans), .. Sizes<T>(shape)]);
    }

    private GpuKernel DeformRoI<T>(string name) => Kernel<T>(DeformRoIPoolKernels.SourceName, DeformRoIPoolKernels.Source, name);

    private GpuKernel DeformPS<T>(string name) => Kernel<T>(DeformPSRoIPoolKernels.SourceName, DeformPSRoIPoolKernels.Source, name);

    private static long PSOutputs(DeformPSRoIPoolShape shape) => (long)shape.Rois * shape.OutputDim * shape.PooledSize * shape.PooledSize;

    /// <summary>channels, height, width, rois, pooled_h, pooled_w.</summary>
    private static KernelArg[] Sizes(RoIPoolShape shape) =>
        [shape.Channels, shape.Height, shape.Width, shape.Rois, shape.PooledH, shape.PooledW];

    /// <summary>The PS_PARAMS of <see cref="DeformPSRoIPoolKernels"/>.</summary>
    private static KernelArg[] Sizes<T>(DeformPSRoIPoolShape shape) where T : unmanaged, IFloatingPointIeee754<T> =>
    [
        shape.Channels, shape.Height, shape.Width, shape.Rois, shape.OutputDim, shape.GroupSize, shape.PooledSize,
        shape.Parts, shape.Samples, shape.Classes, Real<T>(shape.TransStd),
    ];
}

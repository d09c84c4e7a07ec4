using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IDeformPSRoIPoolBackend"/> (kernels: <see cref="DeformPSRoIPoolGpuKernels"/>): the
/// RoI geometry of the CPU (MXNet's rounding) as a host-built table; the input gradient is a scatter through
/// <see cref="Scatter{T}"/>, the trans gradient a gather per part.</summary>
public abstract partial class GpuDevice : IDeformPSRoIPoolBackend
{
    public Tensor<T> DeformPSRoIPool<T>(DeformPSRoIPoolParams parameters, Tensor<T> input, Tensor<T> rois, Tensor<T>? trans)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = DeformPSRoITable(parameters, rois);
        var output = Tensor<T>.Uninitialized(this, parameters.Rois, parameters.OutputDim, parameters.PooledSize, parameters.PooledSize);
        LaunchDeformPSRoIPool<T>(parameters, input.Buffer!, table, trans?.Buffer, output.Buffer!);
        return output;
    }

    public Tensor<T>?[] DeformPSRoIPoolBackward<T>(DeformPSRoIPoolParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> rois, Tensor<T>? trans, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = DeformPSRoITable(parameters, rois);
        var gradInput = needs[0] ? Tensor<T>.Uninitialized(this, input.ShapeArray) : null;
        var gradTrans = trans is not null && needs[1] ? Tensor<T>.Uninitialized(this, trans.ShapeArray) : null;
        LaunchDeformPSRoIPoolBackward<T>(parameters, gradOutput.Buffer!, input.Buffer!, table, trans?.Buffer, gradInput?.Buffer, gradTrans?.Buffer);
        return [gradInput, gradTrans];
    }

    /// <summary>[K, 5]: batch, start y, start x, height, width of MXNet's rounded RoIs, in T.</summary>
    private DeviceBuffer DeformPSRoITable<T>(DeformPSRoIPoolParams parameters, Tensor<T> rois) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int columns = 5;
        var geometry = new DeformPSRoIPoolGeometry<T>(parameters, rois, trans: null);
        var table = new T[parameters.Rois * columns];
        for (int k = 0; k < parameters.Rois; k++)
        {
            T[] row = [T.CreateTruncating(geometry.Batch(k)), geometry.StartY(k), geometry.StartX(k), geometry.Height(k), geometry.Width(k)];
            row.CopyTo(table, k * columns);
        }
        var buffer = Allocate<T>(table.Length);
        buffer.Upload<T>(table);
        return buffer;
    }

    private void LaunchDeformPSRoIPool<T>(DeformPSRoIPoolParams shape, DeviceBuffer input, DeviceBuffer roiTable, DeviceBuffer? trans,
        DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        DeformPS<T>("deform_ps_roi_pool").Launch(PSOutputs(shape),
            [Native(input), Native(roiTable), NativeOrPlaceholder(trans), Flag(trans is not null), Native(output), .. Sizes<T>(shape)]);

    private void LaunchDeformPSRoIPoolBackward<T>(DeformPSRoIPoolParams shape, DeviceBuffer gradOutput, DeviceBuffer input,
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

    private GpuKernel DeformPS<T>(string name) => Kernel<T>(DeformPSRoIPoolGpuKernels.SourceName, DeformPSRoIPoolGpuKernels.Source, name);

    private static long PSOutputs(DeformPSRoIPoolParams shape) => (long)shape.Rois * shape.OutputDim * shape.PooledSize * shape.PooledSize;

    /// <summary>The PS_PARAMS of <see cref="DeformPSRoIPoolGpuKernels"/>.</summary>
    private static KernelArg[] Sizes<T>(DeformPSRoIPoolParams shape) where T : unmanaged, IFloatingPointIeee754<T> =>
    [
        shape.Channels, shape.Height, shape.Width, shape.Rois, shape.OutputDim, shape.GroupSize, shape.PooledSize,
        shape.Parts, shape.Samples, shape.Classes, Real<T>(shape.TransStd),
    ];
}

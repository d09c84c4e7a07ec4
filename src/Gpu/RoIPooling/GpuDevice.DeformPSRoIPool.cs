using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IDeformPSRoIPoolBackend"/> (kernels: <see cref="DeformPSRoIPoolGpuKernels"/>): the
/// RoI geometry of the CPU (MXNet's rounding) as a host-built table; the input gradient is a scatter through
/// <see cref="Scatter{T}"/>, the trans gradient a gather per part.</summary>
public abstract partial class GpuDevice : IDeformPSRoIPoolBackend
{
    /// <inheritdoc />
    public Tensor<T> DeformPSRoIPool<T>(DeformPSRoIPoolParams parameters, Tensor<T> input, Tensor<T> rois, Tensor<T>? trans)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = DeformPSRoITable(parameters, rois);
        var output = Tensor<T>.Uninitialized(this, parameters.Rois, parameters.OutputDim, parameters.PooledSize, parameters.PooledSize);
        var args = Args(parameters, trans, ScatterMode.None);
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, ArrayView<T>, DeformPSRoIPoolArgs>(Items(args.Outputs),
            typeof(DeformPSRoIPoolGpuKernels), nameof(DeformPSRoIPoolGpuKernels.Forward), Elements(input), table.View<T>(),
            ViewOrPlaceholder<T>(trans?.Buffer), T.CreateChecked(parameters.TransStd), Elements(output), args);
        return output;
    }

    /// <inheritdoc />
    public Tensor<T>?[] DeformPSRoIPoolBackward<T>(DeformPSRoIPoolParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> rois, Tensor<T>? trans, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = DeformPSRoITable(parameters, rois);
        var gradInput = needs[0] ? Tensor<T>.Uninitialized(this, input.ShapeArray) : null;
        var gradTrans = trans is not null && needs[1] ? Tensor<T>.Uninitialized(this, trans.ShapeArray) : null;
        var upstream = Elements(gradOutput);
        T transStd = T.CreateChecked(parameters.TransStd);
        if (gradInput is not null)
        {
            // A plane (one position-sensitive group of one output channel) is read by at most every bin of every RoI.
            double Bound() => (double)parameters.Rois * parameters.PooledSize * parameters.PooledSize * MaxAbs(upstream);
            Scatter<T>(Elements(gradInput), Bound, (mode, cells, scale) =>
                Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, ArrayView<T>, ArrayView<long>, T, DeformPSRoIPoolArgs>(
                    Items(upstream.Length), typeof(DeformPSRoIPoolGpuKernels), nameof(DeformPSRoIPoolGpuKernels.BackwardInput),
                    upstream, table.View<T>(), ViewOrPlaceholder<T>(trans?.Buffer), transStd, Elements(gradInput), cells, scale,
                    Args(parameters, trans, mode)));
        }
        if (gradTrans is not null)
            Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, ArrayView<T>, DeformPSRoIPoolArgs>(
                Items((long)parameters.Rois * parameters.Classes * parameters.Parts * parameters.Parts), typeof(DeformPSRoIPoolGpuKernels),
                nameof(DeformPSRoIPoolGpuKernels.BackwardTrans), upstream, Elements(input), table.View<T>(), Elements(trans!), transStd,
                Elements(gradTrans), Args(parameters, trans, ScatterMode.None));
        return [gradInput, gradTrans];
    }

    /// <summary>[K, 5]: batch, start y, start x, height, width of MXNet's rounded RoIs, in T.</summary>
    private GpuDeviceBuffer DeformPSRoITable<T>(DeformPSRoIPoolParams parameters, Tensor<T> rois) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int columns = 5;
        var geometry = new DeformPSRoIPoolGeometry<T>(parameters, rois, trans: null);
        var table = new T[parameters.Rois * columns];
        for (int k = 0; k < parameters.Rois; k++)
        {
            T[] row = [T.CreateTruncating(geometry.Batch(k)), geometry.StartY(k), geometry.StartX(k), geometry.Height(k), geometry.Width(k)];
            row.CopyTo(table, k * columns);
        }
        return Table<T>(table);
    }

    private static DeformPSRoIPoolArgs Args<T>(DeformPSRoIPoolParams shape, Tensor<T>? trans, ScatterMode mode)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(shape.Channels, shape.Height, shape.Width, shape.Rois, shape.OutputDim, shape.GroupSize, shape.PooledSize,
            shape.Parts, shape.Samples, shape.Classes, trans is null ? 0 : 1, (int)mode);
}

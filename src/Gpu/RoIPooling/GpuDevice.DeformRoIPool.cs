using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IDeformRoIPoolBackend"/> (kernels: <see cref="DeformRoIPoolGpuKernels"/>): the
/// host-built RoI Align windows as a table; the input gradient is a scatter through <see cref="Scatter{T}"/>, the
/// offset gradient a gather per bin.</summary>
public abstract partial class GpuDevice : IDeformRoIPoolBackend
{
    /// <inheritdoc />
    public Tensor<T> DeformRoIPool<T>(DeformRoIPoolParams parameters, Tensor<T> input, RoIWindow<T>[] windows, Tensor<T>? offset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        var output = Tensor<T>.Uninitialized(this, parameters.Rois, parameters.Channels, parameters.PooledH, parameters.PooledW);
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, ArrayView<T>, DeformRoIPoolArgs>(Items(output.Numel),
            typeof(DeformRoIPoolGpuKernels), nameof(DeformRoIPoolGpuKernels.Forward), Elements(input), table.View<T>(),
            ViewOrPlaceholder<T>(offset?.Buffer), T.CreateChecked(parameters.Gamma), Elements(output), Args(parameters, offset, ScatterMode.None));
        return output;
    }

    /// <inheritdoc />
    public Tensor<T>?[] DeformRoIPoolBackward<T>(DeformRoIPoolParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        RoIWindow<T>[] windows, Tensor<T>? offset, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        var gradInput = needs[0] ? Tensor<T>.Uninitialized(this, input.ShapeArray) : null;
        var gradOffset = offset is not null && needs[1] ? Tensor<T>.Uninitialized(this, offset.ShapeArray) : null;
        var upstream = Elements(gradOutput);
        T gamma = T.CreateChecked(parameters.Gamma);
        if (gradInput is not null)
        {
            double Bound() => (double)parameters.Rois * parameters.Bins * MaxAbs(upstream);
            Scatter<T>(Elements(gradInput), Bound, (mode, cells, scale) =>
                Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, ArrayView<T>, ArrayView<long>, T, DeformRoIPoolArgs>(Items(upstream.Length),
                    typeof(DeformRoIPoolGpuKernels), nameof(DeformRoIPoolGpuKernels.BackwardInput), upstream, table.View<T>(),
                    ViewOrPlaceholder<T>(offset?.Buffer), gamma, Elements(gradInput), cells, scale, Args(parameters, offset, mode)));
        }
        if (gradOffset is not null)
            Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, ArrayView<T>, DeformRoIPoolArgs>(
                Items((long)parameters.Rois * parameters.Bins), typeof(DeformRoIPoolGpuKernels), nameof(DeformRoIPoolGpuKernels.BackwardOffset),
                upstream, Elements(input), table.View<T>(), Elements(offset!), gamma, Elements(gradOffset), Args(parameters, offset, ScatterMode.None));
        return [gradInput, gradOffset];
    }

    private static DeformRoIPoolArgs Args<T>(DeformRoIPoolParams shape, Tensor<T>? offset, ScatterMode mode)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(shape.Channels, shape.Height, shape.Width, shape.Rois, shape.PooledH, shape.PooledW, offset is null ? 0 : 1, (int)mode);
}

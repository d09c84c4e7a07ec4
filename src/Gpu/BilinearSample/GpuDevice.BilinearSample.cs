using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IBilinearSampleBackend"/> (kernels: <see cref="BilinearSampleGpuKernels"/>).</summary>
public abstract partial class GpuDevice : IBilinearSampleBackend
{
    /// <inheritdoc />
    public Tensor<T> BilinearSample<T>(BilinearSampleParams parameters, Tensor<T> input, Tensor<T> coords)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var output = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.Points);
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, BilinearSampleArgs>(Items(output.Numel), typeof(BilinearSampleGpuKernels),
            nameof(BilinearSampleGpuKernels.Sample), Elements(input), Elements(coords), Elements(output), Args(parameters, ScatterMode.None, false));
        return output;
    }

    /// <inheritdoc />
    public Tensor<T>?[] BilinearSampleBackward<T>(BilinearSampleParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> coords, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gradInput = needs[0] ? Tensor<T>.Uninitialized(this, input.ShapeArray) : null;
        var gradCoords = needs[1] ? Tensor<T>.Uninitialized(this, coords.ShapeArray) : null;
        var upstream = Elements(gradOutput);
        // Each of a plane's points reaches a cell through at most one corner, with a coefficient ≤ 1.
        double Bound() => parameters.Points * MaxAbs(upstream);
        Scatter<T>(gradInput is null ? null : Elements(gradInput), Bound, (mode, cells, scale) =>
            Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<long>, T, ArrayView<T>, BilinearSampleArgs>(
                Items((long)parameters.Batch * parameters.Points), typeof(BilinearSampleGpuKernels), nameof(BilinearSampleGpuKernels.Backward),
                upstream, Elements(input), Elements(coords), ViewOrPlaceholder<T>(gradInput?.Buffer), cells, scale,
                ViewOrPlaceholder<T>(gradCoords?.Buffer), Args(parameters, mode, gradCoords is not null)));
        return [gradInput, gradCoords];
    }

    private static BilinearSampleArgs Args(BilinearSampleParams shape, ScatterMode mode, bool wantCoords) =>
        new(shape.Batch, shape.Channels, shape.Height, shape.Width, shape.Points, (int)mode, wantCoords ? 1 : 0);
}

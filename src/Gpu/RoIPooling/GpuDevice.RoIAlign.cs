using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IRoIAlignBackend"/> (kernels: <see cref="RoIAlignGpuKernels"/>, one kernel for
/// RoIAlign and PSRoIAlign). The input gradient is a scatter through <see cref="Scatter{T}"/> (float atomics, or
/// fixed point in deterministic mode); every bin's samples carry coefficients that sum to at most 1, so a cell's sum
/// is bounded by (bins reading its plane) × max |∂L/∂out|.</summary>
public abstract partial class GpuDevice : IRoIAlignBackend
{
    /// <inheritdoc />
    public Tensor<T> RoIAlign<T>(RoIAlignParams parameters, Tensor<T> input, RoIWindow<T>[] windows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        var output = Tensor<T>.Uninitialized(this, parameters.Rois, parameters.OutputChannels, parameters.PooledH, parameters.PooledW);
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, RoIAlignArgs>(Items(output.Numel), typeof(RoIAlignGpuKernels),
            nameof(RoIAlignGpuKernels.Forward), Elements(input), table.View<T>(), Elements(output), Args(parameters, output.Numel, ScatterMode.None));
        return output;
    }

    /// <inheritdoc />
    public Tensor<T> RoIAlignBackward<T>(RoIAlignParams parameters, Tensor<T> gradOutput, RoIWindow<T>[] windows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        var upstream = Elements(gradOutput);
        var gradInput = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.Height, parameters.Width);
        // A plane is read by every bin of every RoI (RoIAlign) or by one bin of every RoI (PSRoIAlign).
        double Bound() => (double)parameters.Rois * (parameters.PositionSensitive ? 1 : parameters.Bins) * MaxAbs(upstream);
        Scatter<T>(Elements(gradInput), Bound, (mode, cells, scale) =>
            Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<long>, T, RoIAlignArgs>(Items(upstream.Length), typeof(RoIAlignGpuKernels),
                nameof(RoIAlignGpuKernels.Backward), upstream, table.View<T>(), Elements(gradInput), cells, scale,
                Args(parameters, upstream.Length, mode)));
        return gradInput;
    }

    /// <summary>[K, 9] values: batch, start y, start x, height, width, bin height, bin width, grid h, grid w,
    /// built on the host in the operator's precision so every backend samples at the same coordinates.</summary>
    private GpuDeviceBuffer WindowTable<T>(RoIWindow<T>[] windows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int columns = 9;
        var table = new T[windows.Length * columns];
        for (int k = 0; k < windows.Length; k++)
        {
            var w = windows[k];
            T[] row = [T.CreateTruncating(w.Batch), w.StartY, w.StartX, w.Height, w.Width, w.BinHeight, w.BinWidth,
                T.CreateTruncating(w.GridH), T.CreateTruncating(w.GridW)];
            row.CopyTo(table, k * columns);
        }
        return Table<T>(table);
    }

    private static RoIAlignArgs Args(RoIAlignParams parameters, long outputs, ScatterMode mode) =>
        new(parameters.Channels, parameters.Height, parameters.Width, parameters.Rois, parameters.PooledH, parameters.PooledW,
            parameters.PositionSensitive ? 1 : 0, outputs, (int)mode);
}

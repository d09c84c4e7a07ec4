using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The device's <see cref="IRoIAlignBackend"/> (kernels: <see cref="RoIAlignGpuKernels"/>, one kernel for
/// RoIAlign and PSRoIAlign). The input gradient is a scatter through <see cref="Scatter{T}"/> (float atomics, or
/// fixed point in deterministic mode); every bin's samples carry coefficients that sum to at most 1, so a cell's sum
/// is bounded by (bins reading its plane) × max |∂L/∂out|.</summary>
public abstract partial class GpuDevice : IRoIAlignBackend
{
    public Tensor<T> RoIAlign<T>(RoIAlignParams parameters, Tensor<T> input, RoIWindow<T>[] windows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        var output = Tensor<T>.Uninitialized(this, parameters.Rois, parameters.OutputChannels, parameters.PooledH, parameters.PooledW);
        Kernel<T>(RoIAlignGpuKernels.SourceName, RoIAlignGpuKernels.Source, "roi_align").Launch(output.Numel,
            [Native(input.Buffer!), table, Native(output.Buffer!), .. RoIAlignSizes(parameters, output.Numel)]);
        return output;
    }

    public Tensor<T> RoIAlignBackward<T>(RoIAlignParams parameters, Tensor<T> gradOutput, RoIWindow<T>[] windows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var table = WindowTable(windows);
        long outputs = gradOutput.Numel;
        GpuBuffer upstream = Native(gradOutput.Buffer!);
        var gradInput = Tensor<T>.Uninitialized(this, parameters.Batch, parameters.Channels, parameters.Height, parameters.Width);
        // A plane is read by every bin of every RoI (RoIAlign) or by one bin of every RoI (PSRoIAlign).
        double Bound() => (double)parameters.Rois * (parameters.PositionSensitive ? 1 : parameters.Bins) * MaxAbs<T>(upstream, outputs);
        Scatter<T>(gradInput.Buffer, 0, parameters.InputCount, Bound, (mode, fixedCells, scale) =>
            Kernel<T>(RoIAlignGpuKernels.SourceName, RoIAlignGpuKernels.Source, "roi_align_backward").Launch(outputs,
                [upstream, table, Native(gradInput.Buffer!), fixedCells, mode, Real<T>(scale), .. RoIAlignSizes(parameters, outputs)]));
        return gradInput;
    }

    /// <summary>[K, 9] reals: batch, start y, start x, height, width, bin height, bin width, grid h, grid w,
    /// built on the host in the operator's precision so every backend samples at the same coordinates.</summary>
    private GpuBuffer WindowTable<T>(RoIWindow<T>[] windows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int columns = RoIBilinearGpuKernels.WindowColumns;
        var table = new T[windows.Length * columns];
        for (int k = 0; k < windows.Length; k++)
        {
            var w = windows[k];
            T[] row = [T.CreateTruncating(w.Batch), w.StartY, w.StartX, w.Height, w.Width, w.BinHeight, w.BinWidth,
                T.CreateTruncating(w.GridH), T.CreateTruncating(w.GridW)];
            row.CopyTo(table, k * columns);
        }
        GpuBuffer buffer = Scratch((long)Math.Max(table.Length, 1) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        Context.Upload<T>(buffer, table);
        return buffer;
    }

    /// <summary>channels, height, width, rois, pooled_h, pooled_w, position_sensitive, outputs.</summary>
    private static KernelArg[] RoIAlignSizes(RoIAlignParams parameters, long outputs) =>
    [
        parameters.Channels, parameters.Height, parameters.Width, parameters.Rois, parameters.PooledH, parameters.PooledW,
        Flag(parameters.PositionSensitive), outputs,
    ];
}

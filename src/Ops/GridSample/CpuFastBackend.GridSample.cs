using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The fast <see cref="IGridSampleBackend"/>: the threaded kernels of <see cref="GridSampleFastKernels"/>,
/// results identical for any thread count.</summary>
public sealed partial class CpuFastBackend
{
    /// <inheritdoc />
    public override Tensor<T> GridSample<T>(GridSampleParams parameters, Tensor<T> input, Tensor<T> grid)
    {
        var result = new T[parameters.Batch * parameters.Channels * parameters.Points];
        GridSampleFastKernels.Forward(parameters, input.CpuData, grid.CpuData, result);
        return Tensor<T>.Wrap(result, parameters.Batch, parameters.Channels, parameters.OutHeight, parameters.OutWidth);
    }

    /// <inheritdoc />
    public override Tensor<T>?[] GridSampleBackward<T>(GridSampleParams parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> grid,
        bool[] needs)
    {
        var gradInput = needs[0] ? new T[input.Numel] : null;
        var gradGrid = needs[1] ? new T[grid.Numel] : null;
        GridSampleFastKernels.Backward(parameters, input.CpuData, grid.CpuData, gradOutput.CpuData, gradInput, gradGrid);
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradGrid is null ? null : Tensor<T>.Wrap(gradGrid, grid.ShapeArray)];
    }
}

namespace DeformEngine;

/// <summary>torch.nn.functional.grid_sample in 2-D: input [N, C, H, W] read at the normalised points of
/// grid [N, Hout, Wout, 2] given as (x, y) in [−1, 1] (−1 = left/top, +1 = right/bottom), output
/// [N, C, Hout, Wout]. Each grid value maps to a pixel coordinate (see <see cref="Kernels.GridAxis{T}"/>
/// for align_corners and the padding modes); bilinear mode reads out[n, c, p] = Σ_q g_q(p) · input[n, c, q]
/// over the four corners q (0 outside the image), nearest mode the pixel nearest to p.
/// Gradients: ∂L/∂input[q] += g_q · ∂L/∂out (nearest: += ∂L/∂out at the pixel);
/// ∂L/∂grid_x = Σ_c ∂L/∂out · ((1−ly)(v_rt − v_lt) + ly(v_rb − v_lb)) · dx/dgrid_x (y likewise);
/// nearest mode gives the grid a zero gradient. A NaN grid value (and an infinite one under Zeros or
/// Reflection padding) reads 0 and gets no gradient; Border clips ±∞ like any far coordinate.</summary>
public static partial class Functional
{
    /// <summary>out[n, c, i, j] = input[n, c] sampled at the normalised point grid[n, i, j] = (x, y) ∈ [−1, 1]²,
    /// torch.nn.functional.grid_sample in 2-D.</summary>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="grid">[N, Hout, Wout, 2] of (x, y), −1 the left/top edge and +1 the right/bottom edge.</param>
    /// <param name="mode">Bilinear or nearest sampling.</param>
    /// <param name="paddingMode">What points outside the input read: zeros, the border, or a reflection.</param>
    /// <param name="alignCorners">±1 are the centres of the corner pixels (true) or their outer edges (false).</param>
    /// <returns>[N, C, Hout, Wout].</returns>
    /// <exception cref="ArgumentException">A rank or shape does not fit, an unknown mode, or tensors on different
    /// devices.</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
    public static Tensor<T> GridSample<T>(Tensor<T> input, Tensor<T> grid, GridSampleMode mode = GridSampleMode.Bilinear,
        GridSamplePadding paddingMode = GridSamplePadding.Zeros, bool alignCorners = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parameters = GridSampleParams.Create(input, grid, mode, paddingMode, alignCorners);
        var backend = OperatorBackends.For<IGridSampleBackend>(input.Device, "GridSample");
        var output = backend.GridSample(parameters, input, grid);
        return Autograd.Record(output, "GridSample", (gradOutput, needs) =>
            backend.GridSampleBackward(parameters, gradOutput, input, grid, needs), input, grid);
    }
}

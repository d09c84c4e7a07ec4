using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The reference <see cref="IDeformRoIPoolBackend"/>: the RoI Align bin sampler
/// (<see cref="RoIAlignSampler"/>) with each bin moved by its offset.</summary>
public partial class CpuReferenceBackend : IDeformRoIPoolBackend
{
    /// <inheritdoc />
    public virtual Tensor<T> DeformRoIPool<T>(DeformRoIPoolParams parameters, Tensor<T> input, RoIWindow<T>[] windows,
        Tensor<T>? offset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (c, h, w, k, ph, pw) = (parameters.Channels, parameters.Height, parameters.Width, parameters.Rois, parameters.PooledH, parameters.PooledW);
        T scale = T.CreateChecked(parameters.Gamma);
        var src = input.CpuData;
        var offsets = offset?.CpuData;
        var result = new T[k * c * ph * pw];
        int plane = h * w, bins = ph * pw;
        for (int r = 0; r < k; r++)
            for (int i = 0; i < ph; i++)
                for (int j = 0; j < pw; j++)
                {
                    var (shiftY, shiftX) = DeformRoIBinShift(offsets, windows[r], scale, r, i * pw + j, bins);
                    for (int ch = 0; ch < c; ch++)
                    {
                        var source = src.AsSpan((windows[r].Batch * c + ch) * plane, plane);
                        result[(r * c + ch) * bins + i * pw + j] =
                            RoIAlignSampler.Average(source, h, w, windows[r], i, j, shiftY, shiftX);
                    }
                }

        return Tensor<T>.Wrap(result, k, c, ph, pw);
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] DeformRoIPoolBackward<T>(DeformRoIPoolParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        RoIWindow<T>[] windows, Tensor<T>? offset, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (c, h, w, k, ph, pw) = (parameters.Channels, parameters.Height, parameters.Width, parameters.Rois, parameters.PooledH, parameters.PooledW);
        T scale = T.CreateChecked(parameters.Gamma);
        var src = input.CpuData;
        var offsets = offset?.CpuData;
        int plane = h * w, bins = ph * pw;
        var upstream = gradOutput.CpuData;
        var gradInput = needs[0] ? new T[src.Length] : null;
        var gradOffset = offsets is not null && needs[1] ? new T[offsets!.Length] : null;
        for (int r = 0; r < k; r++)
            for (int i = 0; i < ph; i++)
                for (int j = 0; j < pw; j++)
                {
                    int bin = i * pw + j;
                    var (shiftY, shiftX) = DeformRoIBinShift(offsets, windows[r], scale, r, bin, bins);
                    T dy = T.Zero, dx = T.Zero;
                    for (int ch = 0; ch < c; ch++)
                    {
                        T g = upstream[(r * c + ch) * bins + bin];
                        int planeStart = (windows[r].Batch * c + ch) * plane;
                        if (gradInput is not null)
                            RoIAlignSampler.Scatter(gradInput.AsSpan(planeStart, plane), h, w, windows[r], i, j, shiftY, shiftX, g);
                        if (gradOffset is not null)
                        {
                            var (sy, sx) = RoIAlignSampler.ShiftGradient(src.AsSpan(planeStart, plane), h, w, windows[r], i, j, shiftY, shiftX);
                            dy += g * sy;
                            dx += g * sx;
                        }
                    }
                    if (gradOffset is not null)
                    {
                        // NOTE: this is the derivative of the forward above. mmcv's backward
                        // differs at the border: it evaluates the bilinear slope at the unclamped
                        // point, so a coordinate in the clamped band −1 ≤ y ≤ 0 gets a nonzero
                        // slope where the forward is flat (0 here), and a sample clamped to the
                        // last row or column loses the slope along the other axis (kept here).
                        // Inside the plane the two agree.
                        gradOffset[(r * 2) * bins + bin] = scale * windows[r].Width * dx;
                        gradOffset[(r * 2 + 1) * bins + bin] = scale * windows[r].Height * dy;
                    }
                }
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradOffset is null ? null : Tensor<T>.Wrap(gradOffset, offset!.ShapeArray)];
    }

    /// <summary>(Δy, Δx) = (γ·h·offset[k, 1, bin], γ·w·offset[k, 0, bin]); zero without offsets.</summary>
    private static (T ShiftY, T ShiftX) DeformRoIBinShift<T>(T[]? offsets, in RoIWindow<T> window, T gamma, int roi, int bin, int bins)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        offsets is null
            ? (T.Zero, T.Zero)
            : (gamma * window.Height * offsets[(roi * 2 + 1) * bins + bin], gamma * window.Width * offsets[(roi * 2) * bins + bin]);
}

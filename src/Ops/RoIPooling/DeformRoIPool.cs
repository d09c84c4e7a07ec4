using System.Numerics;
using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>Deformable RoI pooling (DCNv1) with mmcv.ops.deform_roi_pool semantics: RoI Align with
/// aligned = true (start x1·s − ½, extent w = (x2 − x1)·s, h = (y2 − y1)·s, no minimum size) whose
/// bin (i, j) is moved by a normalised offset, channel 0 = x:
/// Δx = γ·w·offset[k, 0, i, j], Δy = γ·h·offset[k, 1, i, j], and
/// out[k, c, i, j] = 1/max(rH·rW, 1) · Σ_{iy, ix} bilinear(input[b, c], y_iy + Δy, x_ix + Δx)
/// with the torchvision border rule (0 beyond −1 … H, clamped inside that margin). The sampling grid
/// r is chosen from the unmoved RoI.
/// Gradients: ∂L/∂input[b, c, q] += Σ g_q / max(rH·rW, 1) · ∂L/∂out[k, c, i, j];
/// ∂L/∂offset[k, 0, i, j] = γ·w · Σ_c ∂L/∂out[k, c, i, j] · mean_samples ∂bilinear/∂x
/// (channel 1 likewise with γ·h and ∂/∂y); rois get none.</summary>
public static partial class Functional
{
    /// <param name="input">Features [N, C, H, W].</param>
    /// <param name="rois">[K, 5] rows (batch index, x1, y1, x2, y2); not differentiated.</param>
    /// <param name="offset">[K, 2, PH, PW] normalised bin offsets, channel 0 = x, channel 1 = y; null
    /// for none (mmcv's <c>offset=None</c>, plain aligned RoI Align).</param>
    /// <param name="outputSize">Bins per RoI (PH, PW).</param>
    /// <param name="spatialScale">Feature-map pixels per image pixel.</param>
    /// <param name="samplingRatio">Samples per bin side; ≤ 0 chooses ⌈roi size / bins⌉ per RoI (mmcv's default 0).</param>
    /// <param name="gamma">Scale of the offsets relative to the RoI size.</param>
    /// <returns>[K, C, PH, PW].</returns>
    public static Tensor<T> DeformRoIPool<T>(Tensor<T> input, Tensor<T> rois, Tensor<T>? offset, (int H, int W) outputSize,
        double spatialScale = 1.0, int samplingRatio = 0, double gamma = 0.1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, h, w) = RoIChecks.RequireFeatureMap(input);
        int k = RoIChecks.RequireRois(rois, input, n);
        RoIChecks.RequireOutputSize(outputSize);
        var (ph, pw) = outputSize;
        if (offset is not null)
            RoIChecks.RequireShape(nameof(offset), offset, input, [k, 2, ph, pw], "[K, 2, PH, PW]");
        RoIChecks.RequireSpatialScale(spatialScale);
        RoIChecks.RequireSamplingRatio(samplingRatio);
        RoIChecks.RequireFinite(nameof(gamma), gamma);
        var windows = RoIChecks.AlignWindows(rois, outputSize, spatialScale, samplingRatio, aligned: true);
        if (!input.Device.IsCpu) return DeformRoIPoolOnDevice(input, offset, windows, new RoIPoolShape(n, c, h, w, k, ph, pw), gamma);

        var src = input.CpuData;
        var offsets = offset?.CpuData;
        T scale = T.CreateChecked(gamma);
        var result = new T[ShapeMath.Numel([k, c, ph, pw], nameof(outputSize))];
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

        var output = Tensor<T>.Wrap(result, k, c, ph, pw);
        return Autograd.Record(output, "DeformRoIPool", (grad, needs) =>
        {
            var upstream = grad.CpuData;
            var gradInput = needs[0] ? new T[src.Length] : null;
            var gradOffset = needs[1] ? new T[offsets!.Length] : null;
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
        }, input, offset);
    }

    /// <summary>(Δy, Δx) = (γ·h·offset[k, 1, bin], γ·w·offset[k, 0, bin]); zero without offsets.</summary>
    private static (T ShiftY, T ShiftX) DeformRoIBinShift<T>(T[]? offsets, in RoIWindow<T> window, T gamma, int roi, int bin, int bins)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        offsets is null
            ? (T.Zero, T.Zero)
            : (gamma * window.Height * offsets[(roi * 2 + 1) * bins + bin], gamma * window.Width * offsets[(roi * 2) * bins + bin]);
}

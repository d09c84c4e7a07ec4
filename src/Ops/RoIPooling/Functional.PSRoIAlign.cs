namespace DeformEngine;

/// <summary>Position-sensitive RoI Align (R-FCN with RoI Align sampling), torchvision.ops.ps_roi_align
/// semantics. The input has C = C_out·PH·PW channels; bin (i, j) of output channel c reads input
/// channel (c·PH + i)·PW + j. The RoI is placed as in <see cref="RoIAlign{T}"/> with aligned = true
/// (start x1·s − ½, extent (x2 − x1)·s, no minimum size):
/// out[k, c, i, j] = 1/max(rH·rW, 1) · Σ_{iy, ix} bilinear(input[b, (c·PH + i)·PW + j], y_iy, x_ix).
/// Gradient: ∂L/∂input[b, (c·PH + i)·PW + j, q] += Σ g_q / max(rH·rW, 1) · ∂L/∂out[k, c, i, j];
/// rois get none.</summary>
public static partial class Functional
{
    /// <param name="input">Features [N, C_out·PH·PW, H, W].</param>
    /// <param name="rois">[K, 5] rows (batch index, x1, y1, x2, y2); not differentiated.</param>
    /// <param name="outputSize">Bins per RoI (PH, PW).</param>
    /// <param name="spatialScale">Feature-map pixels per image pixel.</param>
    /// <param name="samplingRatio">Samples per bin side; ≤ 0 chooses ⌈roi size / bins⌉ per RoI.</param>
    /// <returns>[K, C_out, PH, PW].</returns>
    public static Tensor<T> PSRoIAlign<T>(Tensor<T> input, Tensor<T> rois, (int H, int W) outputSize,
        double spatialScale = 1.0, int samplingRatio = -1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, h, w) = RoIChecks.RequireFeatureMap(input);
        int k = RoIChecks.RequireRois(rois, input, n);
        RoIChecks.RequireOutputSize(outputSize);
        RoIChecks.RequireSpatialScale(spatialScale);
        RoIChecks.RequireSamplingRatio(samplingRatio);
        var (ph, pw) = outputSize;
        long binCount = (long)ph * pw;
        if (c % binCount != 0)
            throw new ArgumentException(
                $"input: expected a channel count divisible by the {ph}×{pw} = {binCount} bins (C = C_out·PH·PW), got {c} channels (shape {ShapeMath.Format(input.ShapeSpan)}).",
                nameof(input));
        // NOTE: torchvision divides by rH·rW without the max(…, 1): adaptive sampling of a RoI of
        // zero extent gives 0/0 = NaN there and 0 here.
        var windows = RoIChecks.AlignWindows(rois, outputSize, spatialScale, samplingRatio, aligned: true);
        return Run(new RoIAlignParams(n, c, h, w, k, ph, pw, PositionSensitive: true), input, windows, "PSRoIAlign");
    }
}

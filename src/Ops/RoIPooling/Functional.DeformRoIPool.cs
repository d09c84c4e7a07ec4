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
        var parameters = new DeformRoIPoolParams(n, c, h, w, k, ph, pw, gamma);
        ShapeMath.Numel([k, c, ph, pw], nameof(outputSize));
        var backend = OperatorBackends.For<IDeformRoIPoolBackend>(input.Device, "DeformRoIPool");
        var output = backend.DeformRoIPool(parameters, input, windows, offset);
        return Autograd.Record(output, "DeformRoIPool", (grad, needs) =>
            backend.DeformRoIPoolBackward(parameters, grad, input, windows, offset, needs), input, offset);
    }
}

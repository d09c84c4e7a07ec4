using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>RoI Align (Mask R-CNN) with torchvision.ops.roi_align semantics. For RoI k = (b, x1, y1,
/// x2, y2) with o = ½ when aligned, else 0: start = (x1·s − o, y1·s − o), extent
/// w = (x2 − x1)·s, h = (y2 − y1)·s (each at least 1 when not aligned), bin = (h/PH, w/PW), grid per
/// side r = samplingRatio when positive, else ⌈h/PH⌉ and ⌈w/PW⌉. Then
/// out[k, c, i, j] = 1/max(rH·rW, 1) · Σ_{iy, ix} bilinear(input[b, c], y0 + i·binH + (iy + ½)·binH/rH,
/// x0 + j·binW + (ix + ½)·binW/rW), where a point with y &lt; −1, y &gt; H, x &lt; −1 or x &gt; W reads 0
/// and a point inside that margin is clamped to the plane.
/// Gradient: ∂L/∂input[b, c, q] += Σ_{k, i, j, samples} g_q / max(rH·rW, 1) · ∂L/∂out[k, c, i, j];
/// rois get none.</summary>
public static partial class Functional
{
    /// <param name="input">Features [N, C, H, W].</param>
    /// <param name="rois">[K, 5] rows (batch index, x1, y1, x2, y2) in image coordinates; not differentiated.</param>
    /// <param name="outputSize">Bins per RoI (PH, PW).</param>
    /// <param name="spatialScale">Feature-map pixels per image pixel (1/stride).</param>
    /// <param name="samplingRatio">Samples per bin side; ≤ 0 chooses ⌈roi size / bins⌉ per RoI.</param>
    /// <param name="aligned">Shift the RoI by −½ pixel so that pixel centres sit at integer
    /// coordinates (torchvision's recommended mode); false keeps the legacy behaviour.</param>
    /// <returns>[K, C, PH, PW].</returns>
    public static Tensor<T> RoIAlign<T>(Tensor<T> input, Tensor<T> rois, (int H, int W) outputSize,
        double spatialScale = 1.0, int samplingRatio = -1, bool aligned = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, h, w) = RoIChecks.RequireFeatureMap(input);
        int k = RoIChecks.RequireRois(rois, input, n);
        RoIChecks.RequireOutputSize(outputSize);
        RoIChecks.RequireSpatialScale(spatialScale);
        RoIChecks.RequireSamplingRatio(samplingRatio);
        var windows = RoIChecks.AlignWindows(rois, outputSize, spatialScale, samplingRatio, aligned);
        return Run(new RoIAlignParams(n, c, h, w, k, outputSize.H, outputSize.W, PositionSensitive: false), input, windows, "RoIAlign");
    }

    /// <summary>The one autograd record of RoIAlign and PSRoIAlign.</summary>
    private static Tensor<T> Run<T>(RoIAlignParams parameters, Tensor<T> input, RoIWindow<T>[] windows, string opName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ShapeMath.Numel([parameters.Rois, parameters.OutputChannels, parameters.PooledH, parameters.PooledW], "outputSize");
        var backend = OperatorBackends.For<IRoIAlignBackend>(input.Device, opName);
        var output = backend.RoIAlign(parameters, input, windows);
        return Autograd.Record(output, opName, (grad, _) => [backend.RoIAlignBackward(parameters, grad, windows)], input);
    }
}

using System.Numerics;

namespace DeformEngine;

/// <summary>Modulated deformable RoI pooling (DCNv2) with mmcv semantics (ModulatedDeformRoIPoolPack):
/// the deformable RoI pool scaled per bin by a mask [K, 1, PH, PW] shared by all channels,
/// out[k, c, i, j] = DeformRoIPool(input, rois, offset)[k, c, i, j] · mask[k, 0, i, j].
/// The mask is applied as given; the modules produce it with a sigmoid.
/// Gradients: ∂L/∂mask[k, 0, i, j] = Σ_c ∂L/∂out[k, c, i, j] · pooled[k, c, i, j]; input and offset
/// receive the <see cref="DeformRoIPool{T}"/> gradients of ∂L/∂out · mask; rois get none.</summary>
public static partial class Functional
{
    /// <param name="input">Features [N, C, H, W].</param>
    /// <param name="rois">[K, 5] rows (batch index, x1, y1, x2, y2); not differentiated.</param>
    /// <param name="offset">[K, 2, PH, PW] normalised bin offsets, channel 0 = x; null for none.</param>
    /// <param name="mask">[K, 1, PH, PW] per-bin modulation.</param>
    /// <param name="outputSize">Bins per RoI (PH, PW).</param>
    /// <param name="spatialScale">Feature-map pixels per image pixel.</param>
    /// <param name="samplingRatio">Samples per bin side; ≤ 0 chooses ⌈roi size / bins⌉ per RoI.</param>
    /// <param name="gamma">Scale of the offsets relative to the RoI size.</param>
    /// <returns>[K, C, PH, PW].</returns>
    public static Tensor<T> ModulatedDeformRoIPool<T>(Tensor<T> input, Tensor<T> rois, Tensor<T>? offset, Tensor<T> mask,
        (int H, int W) outputSize, double spatialScale = 1.0, int samplingRatio = 0, double gamma = 0.1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, _, _, _) = RoIChecks.RequireFeatureMap(input);
        int k = RoIChecks.RequireRois(rois, input, n);
        RoIChecks.RequireOutputSize(outputSize);
        RoIChecks.RequireShape(nameof(mask), mask, input, [k, 1, outputSize.H, outputSize.W], "[K, 1, PH, PW]");
        // The product's backward sums ∂L/∂out · pooled over the broadcast channel axis for the mask
        // and passes ∂L/∂out · mask on to the pooling.
        return DeformRoIPool(input, rois, offset, outputSize, spatialScale, samplingRatio, gamma).Mul(mask);
    }
}

using System.Numerics;
using DeformEngine.Kernels;
using static System.FormattableString;

namespace DeformEngine;

/// <summary>Deformable position-sensitive RoI pooling (DCNv1, R-FCN head) with the semantics of
/// MXNet's DeformablePSROIPooling. With P = pooledSize, G = groupSize, S = samplePerPart, s = spatialScale:
/// the RoI is rounded, x0 = round(x1)·s − ½, w = max((round(x2) + 1)·s − ½ − x0, 0.1) (y likewise);
/// bin (i, j) of output channel c reads input channel (c·G + gh)·G + gw with gh = ⌊i·G/P⌋,
/// gw = ⌊j·G/P⌋; it is moved by the part (pi, pj) = (⌊i·part/P⌋, ⌊j·part/P⌋) of class
/// cls = c / (outputDim / numClasses): Δx = transStd·trans[k, 2·cls, pi, pj]·w,
/// Δy = transStd·trans[k, 2·cls + 1, pi, pj]·h. Its samples sit at the bin's corner grid
/// x = x0 + j·w/P + Δx + ix·w/(P·S), y likewise, ix, iy &lt; S; a sample with x &lt; −½, x &gt; W − ½
/// (y likewise) is skipped, the rest are clamped to the plane and read bilinearly, and
/// out[k, c, i, j] = mean over the kept samples (0 when none is kept).
/// Gradients: ∂L/∂input[b, ch, q] += g_q / kept · ∂L/∂out; ∂L/∂trans[k, 2·cls, pi, pj] +=
/// transStd·w · Σ_samples ∂bilinear/∂x / kept · ∂L/∂out (y likewise with h), summed over every bin
/// and channel that uses the part; rois get none.</summary>
public static partial class Functional
{
    /// <param name="input">Features [N, outputDim·G², H, W].</param>
    /// <param name="rois">[K, 5] rows (batch index, x1, y1, x2, y2); not differentiated.</param>
    /// <param name="trans">[K, 2·numClasses, part, part] normalised part offsets, channel 2·cls = x,
    /// 2·cls + 1 = y; ignored (may be null) when <paramref name="noTrans"/>.</param>
    /// <param name="spatialScale">Feature-map pixels per image pixel.</param>
    /// <param name="outputDim">Output channels, a multiple of numClasses.</param>
    /// <param name="groupSize">Position-sensitive groups per side G.</param>
    /// <param name="pooledSize">Bins per side P.</param>
    /// <param name="partSize">Offset parts per side; 0 means P (MXNet's default).</param>
    /// <param name="samplePerPart">Samples per bin side S.</param>
    /// <param name="transStd">Scale of the offsets (MXNet's default 0 disables them).</param>
    /// <param name="noTrans">Pool without offsets (plain PS RoI pooling with MXNet's sampling).</param>
    /// <returns>[K, outputDim, P, P].</returns>
    public static Tensor<T> DeformPSRoIPool<T>(Tensor<T> input, Tensor<T> rois, Tensor<T>? trans, double spatialScale,
        int outputDim, int groupSize, int pooledSize, int partSize = 0, int samplePerPart = 1, double transStd = 0.0,
        bool noTrans = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, h, w) = RoIChecks.RequireFeatureMap(input);
        int k = RoIChecks.RequireRois(rois, input, n);
        RoIChecks.RequireSpatialScale(spatialScale);
        RoIChecks.RequirePositive(nameof(outputDim), outputDim);
        RoIChecks.RequirePositive(nameof(groupSize), groupSize);
        RoIChecks.RequirePositive(nameof(pooledSize), pooledSize);
        if (partSize < 0)
            throw new ArgumentOutOfRangeException(nameof(partSize), partSize,
                Invariant($"partSize: expected ≥ 1, or 0 for pooledSize, got {partSize}."));
        RoIChecks.RequirePositive(nameof(samplePerPart), samplePerPart, RoIChecks.MaxGridPerSide);
        RoIChecks.RequireFinite(nameof(transStd), transStd);
        if ((long)outputDim * groupSize * groupSize != c)
            throw new ArgumentException(
                Invariant($"input: expected outputDim·groupSize² = {outputDim}·{groupSize}² = {(long)outputDim * groupSize * groupSize} channels, got {c} (shape {ShapeMath.Format(input.ShapeSpan)})."),
                nameof(input));
        int parts = partSize == 0 ? pooledSize : partSize;
        int classes = 1;
        if (!noTrans)
        {
            RoIChecks.RequireTensor(nameof(trans), trans!, input);
            var shape = trans!.ShapeArray;
            if (shape.Length != 4 || shape[0] != k || shape[1] < 2 || shape[1] % 2 != 0 || shape[2] != parts || shape[3] != parts)
                throw new ArgumentException(
                    $"trans: expected shape [K, 2·numClasses, part, part] = [{k}, 2·numClasses, {parts}, {parts}], got {ShapeMath.Format(shape)}.",
                    nameof(trans));
            classes = shape[1] / 2;
            if (outputDim % classes != 0)
                throw new ArgumentException(
                    $"trans: its {shape[1]} channels make {classes} classes, which do not divide outputDim = {outputDim}.", nameof(trans));
        }

        var parameters = new DeformPSRoIPoolParams(n, c, h, w, k, spatialScale, outputDim, groupSize, pooledSize, parts, samplePerPart,
            classes, transStd);
        ShapeMath.Numel([k, outputDim, pooledSize, pooledSize], nameof(pooledSize));
        var offsets = noTrans ? null : trans;
        var backend = OperatorBackends.For<IDeformPSRoIPoolBackend>(input.Device, "DeformPSRoIPool");
        var output = backend.DeformPSRoIPool(parameters, input, rois, offsets);
        return Autograd.Record(output, "DeformPSRoIPool", (grad, needs) =>
            backend.DeformPSRoIPoolBackward(parameters, grad, input, rois, offsets, needs), input, offsets);
    }
}

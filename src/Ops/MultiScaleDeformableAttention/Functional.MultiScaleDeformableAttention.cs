namespace DeformEngine;

/// <summary>Multi-scale deformable attention, the operator of Deformable DETR (mmcv's <c>ms_deform_attn</c>;
/// the semantics of its pure-PyTorch form <c>multi_scale_deformable_attn_pytorch</c>):
/// out[n, q, m·D + d] = Σ_l Σ_p a[n, q, m, l, p] · Σ_c g_c(p_l) · value[n, start_l + c, m, d],
/// where level l is an H_l×W_l map stored row-major in value rows start_l … start_l + H_l·W_l − 1, the
/// location (x, y) = samplingLocations[n, q, m, l, p] ∈ [0, 1]² (0 and 1 are the outer edges of the map)
/// sits at pixel p_l = (y·H_l − 0.5, x·W_l − 0.5), and c runs over its four bilinear corners, a corner
/// outside the map reading 0 (grid_sample with align_corners = False, zero padding).
/// Gradients: ∂L/∂value[n, start_l + c, m, d] += a · g_c · ∂L/∂out[n, q, m·D + d];
/// ∂L/∂a = Σ_d ∂L/∂out · sample_d; ∂L/∂x = a · W_l · Σ_d ∂L/∂out · ((1−ly)(v_rt − v_lt) + ly(v_rb − v_lb)),
/// ∂L/∂y = a · H_l · Σ_d ∂L/∂out · ((1−lx)(v_lb − v_lt) + lx(v_rb − v_rt)).</summary>
public static partial class Functional
{
    /// <param name="value">[N, S, heads, channels per head], the levels' pixels one after the other.</param>
    /// <param name="spatialShapes">(H, W) of each level; Σ H·W = S.</param>
    /// <param name="levelStartIndex">The first value row of each level: 0, H₀W₀, H₀W₀ + H₁W₁, …</param>
    /// <param name="samplingLocations">[N, queries, heads, levels, points, 2] of (x, y) normalised to [0, 1].</param>
    /// <param name="attentionWeights">[N, queries, heads, levels, points], applied as given (modules take the
    /// softmax over levels · points).</param>
    /// <returns>[N, queries, heads · channels per head].</returns>
    public static Tensor<T> MultiScaleDeformableAttention<T>(Tensor<T> value, (int H, int W)[] spatialShapes, int[] levelStartIndex,
        Tensor<T> samplingLocations, Tensor<T> attentionWeights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parameters = MultiScaleDeformableAttentionParams.Create(value, spatialShapes, levelStartIndex, samplingLocations, attentionWeights);
        var backend = OperatorBackends.For<IMultiScaleDeformableAttentionBackend>(value.Device, "MultiScaleDeformableAttention");
        var output = backend.MultiScaleDeformableAttention(parameters, value, samplingLocations, attentionWeights);
        return Autograd.Record(output, "MultiScaleDeformableAttention", (gradOutput, needs) =>
            backend.MultiScaleDeformableAttentionBackward(parameters, gradOutput, value, samplingLocations, attentionWeights, needs),
            value, samplingLocations, attentionWeights);
    }
}

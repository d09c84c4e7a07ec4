namespace DeformEngine;

/// <summary>What a backend implements to run <see cref="Functional.MultiScaleDeformableAttention{T}"/>
/// (arguments checked, on the backend's device).</summary>
public interface IMultiScaleDeformableAttentionBackend
{
    /// <summary>The attended values [Batch, Queries, Heads · HeadChannels].</summary>
    Tensor<T> MultiScaleDeformableAttention<T>(MultiScaleDeformableAttentionParams parameters, Tensor<T> value,
        Tensor<T> samplingLocations, Tensor<T> attentionWeights)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (value, samplingLocations, attentionWeights), where <paramref name="needs"/>
    /// asks.</summary>
    Tensor<T>?[] MultiScaleDeformableAttentionBackward<T>(MultiScaleDeformableAttentionParams parameters, Tensor<T> gradOutput,
        Tensor<T> value, Tensor<T> samplingLocations, Tensor<T> attentionWeights, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The fast <see cref="IMultiScaleDeformableAttentionBackend"/>: the vectorised, threaded kernels
/// of <see cref="MultiScaleDeformableAttentionFastKernels"/>, results identical for any thread count.</summary>
public sealed partial class CpuFastBackend
{
    /// <inheritdoc />
    public override Tensor<T> MultiScaleDeformableAttention<T>(MultiScaleDeformableAttentionParams parameters, Tensor<T> value,
        Tensor<T> samplingLocations, Tensor<T> attentionWeights)
    {
        var result = new T[parameters.Batch * parameters.Queries * parameters.Heads * parameters.HeadChannels];
        MultiScaleDeformableAttentionFastKernels.Forward(parameters, value.CpuData, samplingLocations.CpuData, attentionWeights.CpuData, result);
        return Tensor<T>.Wrap(result, parameters.Batch, parameters.Queries, parameters.Heads * parameters.HeadChannels);
    }

    /// <inheritdoc />
    public override Tensor<T>?[] MultiScaleDeformableAttentionBackward<T>(MultiScaleDeformableAttentionParams parameters,
        Tensor<T> gradOutput, Tensor<T> value, Tensor<T> samplingLocations, Tensor<T> attentionWeights, bool[] needs)
    {
        var gradValue = needs[0] ? new T[value.Numel] : null;
        var gradLocations = needs[1] ? new T[samplingLocations.Numel] : null;
        var gradWeights = needs[2] ? new T[attentionWeights.Numel] : null;
        if (gradValue is not null || gradLocations is not null || gradWeights is not null)
            MultiScaleDeformableAttentionFastKernels.Backward(parameters, value.CpuData, samplingLocations.CpuData, attentionWeights.CpuData,
                gradOutput.CpuData, gradValue, gradLocations, gradWeights);
        return [
            gradValue is null ? null : Tensor<T>.Wrap(gradValue, value.ShapeArray),
            gradLocations is null ? null : Tensor<T>.Wrap(gradLocations, samplingLocations.ShapeArray),
            gradWeights is null ? null : Tensor<T>.Wrap(gradWeights, attentionWeights.ShapeArray)];
    }
}

using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The fast <see cref="IDcnv3Backend"/> and <see cref="IDcnv4Backend"/>: <see cref="Dcnv3FastKernels"/>
/// over the channels-last input as it is (no copies, no workspace beyond the results), threads over output
/// rows in the forward and over (image, run of groups) in the backward.</summary>
public sealed partial class CpuFastBackend
{
    /// <inheritdoc />
    public override Tensor<T> Dcnv3<T>(Dcnv3Params parameters, Tensor<T> input, Tensor<T> offset, Tensor<T> mask)
    {
        var output = new T[parameters.Batch * parameters.Positions * parameters.Channels];
        Dcnv3FastKernels.Forward(parameters, Dcnv3Fields.Dcnv3(parameters), input.CpuData, offset.CpuData, mask.CpuData, output);
        return Tensor<T>.Wrap(output, parameters.Batch, parameters.OutH, parameters.OutW, parameters.Channels);
    }

    /// <inheritdoc />
    public override Tensor<T>?[] Dcnv3Backward<T>(Dcnv3Params parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> offset,
        Tensor<T> mask, bool[] needs)
    {
        // The kernel writes every element of these (Dcnv3FastKernels.Backward).
        var gradInput = needs[0] ? GC.AllocateUninitializedArray<T>(input.Numel) : null;
        var gradOffset = needs[1] ? GC.AllocateUninitializedArray<T>(offset.Numel) : null;
        var gradMask = needs[2] ? GC.AllocateUninitializedArray<T>(mask.Numel) : null;
        if (gradInput is not null || gradOffset is not null || gradMask is not null)
            Dcnv3FastKernels.Backward(parameters, Dcnv3Fields.Dcnv3(parameters), gradOutput.CpuData, input.CpuData, offset.CpuData,
                mask.CpuData, gradInput, gradOffset, gradMask);
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradOffset is null ? null : Tensor<T>.Wrap(gradOffset, offset.ShapeArray),
            gradMask is null ? null : Tensor<T>.Wrap(gradMask, mask.ShapeArray)];
    }

    /// <inheritdoc />
    public override Tensor<T> Dcnv4<T>(Dcnv4Params parameters, Tensor<T> input, Tensor<T> offsetMask)
    {
        var sampling = parameters.Sampling;
        var packed = offsetMask.CpuData;
        var output = new T[sampling.Batch * sampling.Positions * sampling.Channels];
        Dcnv3FastKernels.Forward(sampling, Dcnv3Fields.Dcnv4(parameters), input.CpuData, packed, packed, output);
        return Tensor<T>.Wrap(output, sampling.Batch, sampling.OutH, sampling.OutW, sampling.Channels);
    }

    /// <inheritdoc />
    public override Tensor<T>?[] Dcnv4Backward<T>(Dcnv4Params parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> offsetMask,
        bool[] needs)
    {
        var packed = offsetMask.CpuData;
        var gradInput = needs[0] ? GC.AllocateUninitializedArray<T>(input.Numel) : null;
        var gradPacked = needs[1] ? GC.AllocateUninitializedArray<T>(offsetMask.Numel) : null;
        if (gradInput is not null || gradPacked is not null)
            Dcnv3FastKernels.Backward(parameters.Sampling, Dcnv3Fields.Dcnv4(parameters), gradOutput.CpuData, input.CpuData, packed, packed,
                gradInput, gradPacked, gradPacked);
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradPacked is null ? null : Tensor<T>.Wrap(gradPacked, offsetMask.ShapeArray)];
    }
}

using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The reference <see cref="IDcnv3Backend"/> and <see cref="IDcnv4Backend"/>: the plain loops of
/// <see cref="Dcnv3ReferenceKernels"/> over DCNv3's two fields or DCNv4's packed one.</summary>
public partial class CpuReferenceBackend : IDcnv3Backend, IDcnv4Backend
{
    /// <inheritdoc />
    public virtual Tensor<T> Dcnv3<T>(Dcnv3Params parameters, Tensor<T> input, Tensor<T> offset, Tensor<T> mask)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        DcnvOutput(parameters, Dcnv3ReferenceKernels.Forward(parameters, Dcnv3Fields.Dcnv3(parameters), input.CpuData, offset.CpuData, mask.CpuData));

    /// <inheritdoc />
    public virtual Tensor<T>?[] Dcnv3Backward<T>(Dcnv3Params parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> offset,
        Tensor<T> mask, bool[] needs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gradInput = needs[0] ? new T[input.Numel] : null;
        var gradOffset = needs[1] ? new T[offset.Numel] : null;
        var gradMask = needs[2] ? new T[mask.Numel] : null;
        Dcnv3ReferenceKernels.Backward(parameters, Dcnv3Fields.Dcnv3(parameters), gradOutput.CpuData, input.CpuData, offset.CpuData,
            mask.CpuData, gradInput, gradOffset, gradMask);
        return [DcnvGradient(gradInput, input), DcnvGradient(gradOffset, offset), DcnvGradient(gradMask, mask)];
    }

    /// <inheritdoc />
    public virtual Tensor<T> Dcnv4<T>(Dcnv4Params parameters, Tensor<T> input, Tensor<T> offsetMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var packed = offsetMask.CpuData;
        return DcnvOutput(parameters.Sampling,
            Dcnv3ReferenceKernels.Forward(parameters.Sampling, Dcnv3Fields.Dcnv4(parameters), input.CpuData, packed, packed));
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] Dcnv4Backward<T>(Dcnv4Params parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> offsetMask,
        bool[] needs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var packed = offsetMask.CpuData;
        var gradInput = needs[0] ? new T[input.Numel] : null;
        var gradPacked = needs[1] ? new T[offsetMask.Numel] : null;
        Dcnv3ReferenceKernels.Backward(parameters.Sampling, Dcnv3Fields.Dcnv4(parameters), gradOutput.CpuData, input.CpuData, packed, packed,
            gradInput, gradPacked, gradPacked);
        return [DcnvGradient(gradInput, input), DcnvGradient(gradPacked, offsetMask)];
    }

    private static Tensor<T> DcnvOutput<T>(Dcnv3Params parameters, T[] output) where T : unmanaged, IFloatingPointIeee754<T> =>
        Tensor<T>.Wrap(output, parameters.Batch, parameters.OutH, parameters.OutW, parameters.Channels);

    private static Tensor<T>? DcnvGradient<T>(T[]? gradient, Tensor<T> like) where T : unmanaged, IFloatingPointIeee754<T> =>
        gradient is null ? null : Tensor<T>.Wrap(gradient, like.ShapeArray);
}

namespace DeformEngine;

/// <summary>What a backend implements to run <see cref="Functional.DeformConv2d{T}"/>. The arguments are
/// checked (<see cref="DeformConv2dParams"/>) and live on the backend's device; the backend chooses
/// layouts, chunking, workspace and threads.</summary>
public interface IDeformConv2dBackend
{
    /// <summary>The output [N, O, OutH, OutW]; mask null = DCNv1, bias null = none.</summary>
    Tensor<T> DeformConv2d<T>(DeformConv2dParams parameters, Tensor<T> input, Tensor<T> offset, Tensor<T> weight,
        Tensor<T>? bias, Tensor<T>? mask)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (input, offset, weight, bias, mask) from ∂L/∂output, each computed only
    /// where <paramref name="needs"/> asks (null otherwise, and for an absent bias or mask). The input,
    /// offset and mask gradients come from one sampling pass.</summary>
    Tensor<T>?[] DeformConv2dBackward<T>(DeformConv2dParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> offset, Tensor<T> weight, Tensor<T>? bias, Tensor<T>? mask, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

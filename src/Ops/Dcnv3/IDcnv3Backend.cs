namespace DeformEngine;

/// <summary>What a backend implements to run <see cref="Functional.Dcnv3{T}"/>. The arguments are checked
/// (<see cref="Dcnv3Params"/>) and live on the backend's device.</summary>
public interface IDcnv3Backend
{
    /// <summary>The output [N, OutH, OutW, G·Cg].</summary>
    Tensor<T> Dcnv3<T>(Dcnv3Params parameters, Tensor<T> input, Tensor<T> offset, Tensor<T> mask)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (input, offset, mask) from ∂L/∂output, each only where
    /// <paramref name="needs"/> asks (null otherwise), from one pass over the sampling points.</summary>
    Tensor<T>?[] Dcnv3Backward<T>(Dcnv3Params parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> offset, Tensor<T> mask,
        bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>What a backend implements to run <see cref="Functional.Dcnv4{T}"/>.</summary>
public interface IDcnv4Backend
{
    /// <summary>The output [N, OutH, OutW, G·Cg].</summary>
    Tensor<T> Dcnv4<T>(Dcnv4Params parameters, Tensor<T> input, Tensor<T> offsetMask)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (input, offsetMask) where <paramref name="needs"/> asks; the offset_mask
    /// gradient holds the offset and the mask gradients in the packed layout and 0 in the padding.</summary>
    Tensor<T>?[] Dcnv4Backward<T>(Dcnv4Params parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> offsetMask, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

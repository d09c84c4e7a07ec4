using System.Numerics;

namespace DeformEngine;

/// <summary>The device primitives behind the shape-changing, broadcasting, reducing and matrix
/// operations of <see cref="Tensor{T}"/>. Shapes and strides are in elements; "row-major" means the
/// last dimension varies fastest. A device that lacks one throws <see cref="NotSupportedException"/>.</summary>
public abstract partial class Device
{
    /// <summary>destination[destinationOffset + Σ_d i_d·destinationStrides[d]] =
    /// source[sourceOffset + Σ_d i_d·sourceStrides[d]] for every multi-index i of <paramref name="shape"/>:
    /// permutes, slices, concatenations and broadcast expansions (stride 0).</summary>
    public virtual void StridedCopy<T>(int[] shape, DeviceBuffer source, long sourceOffset, int[] sourceStrides,
        DeviceBuffer destination, long destinationOffset, int[] destinationStrides)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported("StridedCopy");

    /// <summary>result[i] = a[Σ_d i_d·stridesA[d]] op b[Σ_d i_d·stridesB[d]] for every multi-index i of
    /// <paramref name="shape"/>, result row-major: binary ops with broadcasting (stride 0).</summary>
    public virtual void StridedBinary<T>(DeviceBinaryOp op, int[] shape, DeviceBuffer a, int[] stridesA,
        DeviceBuffer b, int[] stridesB, DeviceBuffer result)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported(op + " with broadcasting");

    /// <summary>result[i] = Σ_j source[Σ_d i_d·keptStrides[d] + Σ_e j_e·reducedStrides[e]] for every
    /// multi-index i of <paramref name="keptShape"/> (result row-major), summed over the multi-indices j of
    /// <paramref name="reducedShape"/> in row-major order.</summary>
    public virtual void StridedSum<T>(DeviceBuffer source, int[] keptShape, int[] keptStrides, int[] reducedShape,
        int[] reducedStrides, DeviceBuffer result)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported("Sum along axes");

    /// <summary>Softmax (or log-softmax) of x viewed as [outer, size, inner] along the middle axis,
    /// with the maximum subtracted, as the CPU computes it.</summary>
    public virtual void Softmax<T>(DeviceBuffer x, DeviceBuffer result, int outer, int size, int inner, bool log)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported(log ? "LogSoftmax" : "Softmax");

    /// <summary>C_i = op(A_i)·op(B_i) for i &lt; batch, op(A) m×k, op(B) k×n, each operand row-major and
    /// dense (A stored m×k, or k×m when transposed), C_i starting at i·strideC; a stride of 0 shares
    /// the operand across the batch.</summary>
    public virtual void MatMul<T>(int batch, int m, int n, int k, DeviceBuffer a, long strideA, bool transA,
        DeviceBuffer b, long strideB, bool transB, DeviceBuffer c, long strideC)
        where T : unmanaged, IFloatingPointIeee754<T> => throw Unsupported("MatMul");
}

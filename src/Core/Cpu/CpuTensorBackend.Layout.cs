using System.Numerics;

namespace DeformEngine.Cpu;

/// <summary>Primitives that move elements: permute, concatenate, slice and its adjoint.</summary>
internal sealed partial class CpuTensorBackend
{
    public Tensor<T> Permute<T>(Tensor<T> x, int[] perm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = x.ShapeArray;
        int rank = shape.Length;
        var outShape = new int[rank];
        var sourceStrides = ShapeMath.Strides(shape);
        var gather = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            outShape[i] = shape[perm[i]];
            gather[i] = sourceStrides[perm[i]];
        }
        var source = x.CpuData;
        var result = new T[x.Numel];
        var counter = new int[rank];
        int offset = 0;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = source[offset];
            for (int d = rank - 1; d >= 0; d--)
            {
                counter[d]++;
                offset += gather[d];
                if (counter[d] < outShape[d]) break;
                offset -= gather[d] * outShape[d];
                counter[d] = 0;
            }
        }
        return Tensor<T>.Wrap(result, outShape);
    }

    public Tensor<T> Cat<T>(Tensor<T>[] tensors, int axis, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[ShapeMath.Numel(shape)];
        var output = Tensor<T>.Wrap(result, shape);
        var (outer, total, inner) = output.Split(axis);
        int start = 0;
        foreach (var tensor in tensors)
        {
            int size = tensor.ShapeArray[axis];
            int width = size * inner;
            var source = tensor.CpuData;
            for (int o = 0; o < outer; o++)
                source.AsSpan(o * width, width).CopyTo(result.AsSpan((o * total + start) * inner, width));
            start += size;
        }
        return output;
    }

    public Tensor<T> Slice<T>(Tensor<T> x, int axis, int start, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (outer, size, inner) = x.Split(axis);
        var outShape = (int[])x.ShapeArray.Clone();
        outShape[axis] = length;
        var result = new T[outer * length * inner];
        var source = x.CpuData;
        for (int o = 0; o < outer; o++)
            source.AsSpan((o * size + start) * inner, length * inner).CopyTo(result.AsSpan(o * length * inner, length * inner));
        return Tensor<T>.Wrap(result, outShape);
    }

    public Tensor<T> SliceBackward<T>(Tensor<T> grad, int[] shape, int axis, int start) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[ShapeMath.Numel(shape)];
        var output = Tensor<T>.Wrap(result, shape);
        var (outer, size, inner) = output.Split(axis);
        int length = grad.ShapeArray[axis];
        var source = grad.CpuData;
        for (int o = 0; o < outer; o++)
            source.AsSpan(o * length * inner, length * inner).CopyTo(result.AsSpan((o * size + start) * inner, length * inner));
        return output;
    }
}

using System.Numerics;

namespace DeformEngine.Gpu;

/// <summary>Core's <see cref="ITensorBackend"/> on the device: elementwise functions as the kernels of
/// GpuDevice.Tensor.cs, broadcasting, reductions, permutes, concatenations and slices as strided copies
/// and sums (GpuDevice.Tensors.cs), products as the GEMM kernel. Sums run in a fixed order.</summary>
public abstract partial class GpuDevice : ITensorBackend
{
    public Tensor<T> Full<T>(T value, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, shape);
        Fill(result.Buffer!, value, result.Numel);
        return result;
    }

    public Tensor<T> Clone<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, x.ShapeArray);
        Copy<T>(x.Buffer!, result.Buffer!, x.Numel);
        return result;
    }

    public void Assign<T>(Tensor<T> destination, Tensor<T> source) where T : unmanaged, IFloatingPointIeee754<T> =>
        Copy<T>(source.Buffer!, destination.Buffer!, destination.Numel);

    public void AddInPlace<T>(Tensor<T> destination, Tensor<T> source) where T : unmanaged, IFloatingPointIeee754<T> =>
        BinaryKernel<T>((int)BinaryFunction.Add, destination.Buffer!, source.Buffer!, destination.Buffer!, destination.Numel);

    public Tensor<T> Unary<T>(UnaryFunction function, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, x.ShapeArray);
        UnaryKernel<T>((int)function, x.Buffer!, result.Buffer!, x.Numel);
        return result;
    }

    public Tensor<T> UnaryBackward<T>(UnaryFunction function, Tensor<T> grad, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int code = function switch
        {
            UnaryFunction.Relu => ReluBackwardCode,
            UnaryFunction.Abs => AbsBackwardCode,
            _ => throw new ArgumentOutOfRangeException(nameof(function), function, "Only Relu and Abs have a step derivative."),
        };
        var result = Tensor<T>.Uninitialized(this, x.ShapeArray);
        BinaryKernel<T>(code, grad.Buffer!, x.Buffer!, result.Buffer!, x.Numel);
        return result;
    }

    public Tensor<T> Scalar<T>(ScalarFunction function, Tensor<T> x, T value) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, x.ShapeArray);
        ScalarKernel(function, x.Buffer!, value, result.Buffer!, x.Numel);
        return result;
    }

    public Tensor<T> Binary<T>(BinaryFunction function, Tensor<T> a, Tensor<T> b, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, shape);
        if (a.ShapeSpan.SequenceEqual(b.ShapeSpan))
            BinaryKernel<T>((int)function, a.Buffer!, b.Buffer!, result.Buffer!, result.Numel);
        else
            StridedBinary<T>(function, shape, a.Buffer!, ShapeMath.BroadcastStrides(a.ShapeArray, shape),
                b.Buffer!, ShapeMath.BroadcastStrides(b.ShapeArray, shape), result.Buffer!);
        return result;
    }

    /// <summary>Every dimension that broadcasting added or stretched from 1 is reduced, in the CPU's
    /// (row-major) order; a sum of everything runs as a tree of group sums.</summary>
    public Tensor<T> SumToShape<T>(Tensor<T> x, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, shape);
        if (result.Numel == 1)
        {
            SumAll<T>(x.Buffer!, x.Numel, result.Buffer!);
            return result;
        }
        var xShape = x.ShapeArray;
        int added = xShape.Length - shape.Length;
        var strides = ShapeMath.Strides(xShape);
        List<int> keptShape = [], keptStrides = [], reducedShape = [], reducedStrides = [];
        for (int d = 0; d < xShape.Length; d++)
        {
            bool reduced = xShape[d] != 1 && (d < added || shape[d - added] == 1);
            (reduced ? reducedShape : keptShape).Add(xShape[d]);
            (reduced ? reducedStrides : keptStrides).Add(strides[d]);
        }
        StridedSum<T>(x.Buffer!, [.. keptShape], [.. keptStrides], [.. reducedShape], [.. reducedStrides], result.Buffer!);
        return result;
    }

    public Tensor<T> BroadcastTo<T>(Tensor<T> x, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, shape);
        if (x.Numel == 1)
            FillFromFirst<T>(x.Buffer!, result.Buffer!, result.Numel);
        else
            StridedCopy<T>(shape, x.Buffer!, 0, ShapeMath.BroadcastStrides(x.ShapeArray, shape), result.Buffer!, 0, ShapeMath.Strides(shape));
        return result;
    }

    public Tensor<T> Permute<T>(Tensor<T> x, int[] perm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sourceStrides = ShapeMath.Strides(x.ShapeArray);
        var outShape = new int[perm.Length];
        var gather = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++)
        {
            outShape[i] = x.ShapeArray[perm[i]];
            gather[i] = sourceStrides[perm[i]];
        }
        var result = Tensor<T>.Uninitialized(this, outShape);
        StridedCopy<T>(outShape, x.Buffer!, 0, gather, result.Buffer!, 0, ShapeMath.Strides(outShape));
        return result;
    }

    /// <summary>Each tensor copied into its slab of the result.</summary>
    public Tensor<T> Cat<T>(Tensor<T>[] tensors, int axis, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, shape);
        var outStrides = ShapeMath.Strides(shape);
        long start = 0;
        foreach (var t in tensors)
        {
            StridedCopy<T>(t.ShapeArray, t.Buffer!, 0, ShapeMath.Strides(t.ShapeArray), result.Buffer!, start * outStrides[axis], outStrides);
            start += t.ShapeArray[axis];
        }
        return result;
    }

    public Tensor<T> Slice<T>(Tensor<T> x, int axis, int start, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (outer, size, inner) = x.Split(axis);
        var outShape = (int[])x.ShapeArray.Clone();
        outShape[axis] = length;
        var result = Tensor<T>.Uninitialized(this, outShape);
        StridedCopy<T>([outer, length * inner], x.Buffer!, (long)start * inner, [size * inner, 1], result.Buffer!, 0, [length * inner, 1]);
        return result;
    }

    public Tensor<T> SliceBackward<T>(Tensor<T> grad, int[] shape, int axis, int start) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Full(T.Zero, shape);
        var (outer, size, inner) = result.Split(axis);
        int length = grad.ShapeArray[axis];
        StridedCopy<T>([outer, length * inner], grad.Buffer!, 0, [length * inner, 1], result.Buffer!, (long)start * inner, [size * inner, 1]);
        return result;
    }

    public Tensor<T> Softmax<T>(Tensor<T> x, int axis, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (outer, size, inner) = x.Split(axis);
        var result = Tensor<T>.Uninitialized(this, x.ShapeArray);
        SoftmaxKernel<T>(x.Buffer!, result.Buffer!, outer, size, inner, log);
        return result;
    }

    public Tensor<T> Gemm<T>(GemmShape shape, Tensor<T> a, Tensor<T> b, int[] resultShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, m, n, k) = (shape.Batch, shape.M, shape.N, shape.K);
        var result = Tensor<T>.Uninitialized(this, resultShape);
        BatchedGemm(m, n, k, batch, 1,
            new DeviceMatrix(a.Buffer!, 0, shape.TransA ? m : k, shape.StrideA, 0, shape.TransA),
            new DeviceMatrix(b.Buffer!, 0, shape.TransB ? k : n, shape.StrideB, 0, shape.TransB),
            T.Zero,
            new DeviceMatrix(result.Buffer!, 0, n, (long)m * n));
        return result;
    }
}

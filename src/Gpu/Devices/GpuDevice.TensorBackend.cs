using System.Numerics;
using ILGPU;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>Core's <see cref="ITensorBackend"/> on the device: elementwise functions as the kernels of
/// GpuDevice.Elementwise.cs, broadcasting, reductions, permutes, concatenations and slices as strided copies
/// and sums (GpuDevice.Strided.cs), products as the GEMM (GpuDevice.Gemm.cs). Sums run in a fixed order.</summary>
public abstract partial class GpuDevice : ITensorBackend
{
    /// <inheritdoc />
    public Tensor<T> Full<T>(T value, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, shape);
        Fill(View<T>(result.Buffer!), value);
        return result;
    }

    /// <inheritdoc />
    public Tensor<T> Clone<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, x.ShapeArray);
        CopyView(Elements(x), Elements(result));
        return result;
    }

    /// <inheritdoc />
    public void Assign<T>(Tensor<T> destination, Tensor<T> source) where T : unmanaged, IFloatingPointIeee754<T> =>
        CopyView(Elements(source), Elements(destination));

    /// <inheritdoc />
    public void AddInPlace<T>(Tensor<T> destination, Tensor<T> source) where T : unmanaged, IFloatingPointIeee754<T> =>
        BinaryOp((int)BinaryFunction.Add, Elements(destination), Elements(source), Elements(destination));

    /// <inheritdoc />
    public Tensor<T> Unary<T>(UnaryFunction function, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, x.ShapeArray);
        Unary((int)function, Elements(x), Elements(result));
        return result;
    }

    /// <inheritdoc />
    public Tensor<T> UnaryBackward<T>(UnaryFunction function, Tensor<T> grad, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int code = function switch
        {
            UnaryFunction.Relu => ElementwiseGpuKernels.ReluBackward,
            UnaryFunction.Abs => ElementwiseGpuKernels.AbsBackward,
            _ => throw new ArgumentOutOfRangeException(nameof(function), function, "Only Relu and Abs have a step derivative."),
        };
        var result = Tensor<T>.Uninitialized(this, x.ShapeArray);
        BinaryOp(code, Elements(grad), Elements(x), Elements(result));
        return result;
    }

    /// <inheritdoc />
    public Tensor<T> Scalar<T>(ScalarFunction function, Tensor<T> x, T value) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, x.ShapeArray);
        ScalarOp(function, Elements(x), value, Elements(result));
        return result;
    }

    /// <inheritdoc />
    public Tensor<T> Binary<T>(BinaryFunction function, Tensor<T> a, Tensor<T> b, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, shape);
        if (a.ShapeSpan.SequenceEqual(b.ShapeSpan))
            BinaryOp((int)function, Elements(a), Elements(b), Elements(result));
        else
            StridedBinary(function, shape, Elements(a), ShapeMath.BroadcastStrides(a.ShapeArray, shape),
                Elements(b), ShapeMath.BroadcastStrides(b.ShapeArray, shape), Elements(result));
        return result;
    }

    /// <summary>Every dimension that broadcasting added or stretched from 1 is reduced, in the CPU's
    /// (row-major) order; a sum of everything runs as strided partial sums.</summary>
    public Tensor<T> SumToShape<T>(Tensor<T> x, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, shape);
        if (result.Numel == 1)
        {
            SumAll(Elements(x), Elements(result));
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
        StridedSum(Elements(x), [.. keptShape], [.. keptStrides], [.. reducedShape], [.. reducedStrides], Elements(result));
        return result;
    }

    /// <inheritdoc />
    public Tensor<T> BroadcastTo<T>(Tensor<T> x, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Tensor<T>.Uninitialized(this, shape);
        if (result.Numel == 0) return result;
        if (x.Numel == 1)
            Launch<T, ArrayView<T>, ArrayView<T>, long>(Items(result.Numel), typeof(ElementwiseGpuKernels),
                nameof(ElementwiseGpuKernels.FillFromFirst), Elements(x), Elements(result), result.Numel);
        else
            StridedCopy(shape, Elements(x), 0, ShapeMath.BroadcastStrides(x.ShapeArray, shape), Elements(result), 0, ShapeMath.Strides(shape));
        return result;
    }

    /// <inheritdoc />
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
        StridedCopy(outShape, Elements(x), 0, gather, Elements(result), 0, ShapeMath.Strides(outShape));
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
            StridedCopy(t.ShapeArray, Elements(t), 0, ShapeMath.Strides(t.ShapeArray), Elements(result), start * outStrides[axis], outStrides);
            start += t.ShapeArray[axis];
        }
        return result;
    }

    /// <inheritdoc />
    public Tensor<T> Slice<T>(Tensor<T> x, int axis, int start, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (outer, size, inner) = x.Split(axis);
        var outShape = (int[])x.ShapeArray.Clone();
        outShape[axis] = length;
        var result = Tensor<T>.Uninitialized(this, outShape);
        StridedCopy([outer, length * inner], Elements(x), (long)start * inner, [size * inner, 1], Elements(result), 0, [length * inner, 1]);
        return result;
    }

    /// <inheritdoc />
    public Tensor<T> SliceBackward<T>(Tensor<T> grad, int[] shape, int axis, int start) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = Full(T.Zero, shape);
        var (outer, size, inner) = result.Split(axis);
        int length = grad.ShapeArray[axis];
        StridedCopy([outer, length * inner], Elements(grad), 0, [length * inner, 1], Elements(result), (long)start * inner, [size * inner, 1]);
        return result;
    }

    /// <inheritdoc />
    public Tensor<T> Softmax<T>(Tensor<T> x, int axis, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (outer, size, inner) = x.Split(axis);
        var result = Tensor<T>.Uninitialized(this, x.ShapeArray);
        SoftmaxRows(Elements(x), Elements(result), outer, size, inner, log);
        return result;
    }

    /// <inheritdoc />
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

    /// <summary>The elements of a tensor of this device, exactly Numel of them.</summary>
    internal ArrayView<T> Elements<T>(Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T> =>
        View<T>(tensor.Buffer!, "tensor").SubView(0, tensor.Numel);
}

using System.Numerics;
using System.Numerics.Tensors;

namespace DeformEngine.Cpu;

/// <summary>Binary functions with NumPy broadcasting, and the broadcast and its adjoint (the sum back
/// to a shape).</summary>
internal sealed partial class CpuTensorBackend
{
    public Tensor<T> Binary<T>(BinaryFunction function, Tensor<T> a, Tensor<T> b, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[ShapeMath.Numel(shape)];
        if (result.Length == 0) return Tensor<T>.Wrap(result, shape);
        T[] x = a.CpuData, y = b.CpuData;
        if (a.Numel == result.Length && b.Numel == result.Length)
        {
            Apply(function, x, y, result);
            return Tensor<T>.Wrap(result, shape);
        }
        // Walk the output row by row (last dimension contiguous); each operand's row is either
        // contiguous or a single broadcast value.
        int rank = Math.Max(shape.Length, 1);
        var outShape = shape.Length == 0 ? [1] : shape;
        var sa = ShapeMath.BroadcastStrides(a.ShapeArray, outShape);
        var sb = ShapeMath.BroadcastStrides(b.ShapeArray, outShape);
        int inner = outShape[rank - 1];
        int rows = result.Length / inner;
        var counter = new int[rank];
        int offA = 0, offB = 0;
        for (int row = 0; row < rows; row++)
        {
            var destination = result.AsSpan(row * inner, inner);
            bool aRow = sa[rank - 1] != 0, bRow = sb[rank - 1] != 0;
            if (aRow && bRow) Apply(function, x.AsSpan(offA, inner), y.AsSpan(offB, inner), destination);
            else if (aRow) ApplyScalarRight(function, x.AsSpan(offA, inner), y[offB], destination);
            else if (bRow) ApplyScalarLeft(function, x[offA], y.AsSpan(offB, inner), destination);
            else destination.Fill(Apply(function, x[offA], y[offB]));
            for (int d = rank - 2; d >= 0; d--)
            {
                counter[d]++;
                offA += sa[d];
                offB += sb[d];
                if (counter[d] < outShape[d]) break;
                offA -= sa[d] * outShape[d];
                offB -= sb[d] * outShape[d];
                counter[d] = 0;
            }
        }
        return Tensor<T>.Wrap(result, shape);
    }

    public Tensor<T> SumToShape<T>(Tensor<T> x, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[ShapeMath.Numel(shape)];
        var source = x.CpuData;
        // The sum of everything (Sum()) is TensorPrimitives' vectorised sum; sums along axes keep the
        // row-major order of the loops below.
        if (shape.Length == 0)
        {
            result[0] = TensorPrimitives.Sum<T>(source);
            return Tensor<T>.Wrap(result, shape);
        }
        if (result.Length == 0 || source.Length == 0) return Tensor<T>.Wrap(result, shape);
        var xShape = x.ShapeArray;
        int rank = xShape.Length;
        var strides = ShapeMath.BroadcastStrides(shape, xShape);
        // Whole rows of x map onto whole rows of the result when the last dimension is kept: add them
        // vectorised, in the same (row-major) order as the element loop below.
        int inner = xShape[rank - 1];
        bool rowsKept = strides[rank - 1] == 1;
        int step = rowsKept ? inner : 1;
        var counter = new int[rank];
        int target = 0;
        for (int i = 0; i < source.Length; i += step)
        {
            if (rowsKept)
                TensorPrimitives.Add(result.AsSpan(target, inner), source.AsSpan(i, inner), result.AsSpan(target, inner));
            else
                result[target] += source[i];
            for (int d = rowsKept ? rank - 2 : rank - 1; d >= 0; d--)
            {
                counter[d]++;
                target += strides[d];
                if (counter[d] < xShape[d]) break;
                target -= strides[d] * xShape[d];
                counter[d] = 0;
            }
        }
        return Tensor<T>.Wrap(result, shape);
    }

    public Tensor<T> BroadcastTo<T>(Tensor<T> x, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[ShapeMath.Numel(shape)];
        var source = x.CpuData;
        if (result.Length == 0) return Tensor<T>.Wrap(result, shape);
        if (source.Length == 1)
        {
            Array.Fill(result, source[0]);
            return Tensor<T>.Wrap(result, shape);
        }
        int rank = shape.Length;
        var strides = ShapeMath.BroadcastStrides(x.ShapeArray, shape);
        var counter = new int[rank];
        int offset = 0;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = source[offset];
            for (int d = rank - 1; d >= 0; d--)
            {
                counter[d]++;
                offset += strides[d];
                if (counter[d] < shape[d]) break;
                offset -= strides[d] * shape[d];
                counter[d] = 0;
            }
        }
        return Tensor<T>.Wrap(result, shape);
    }

    private static T Apply<T>(BinaryFunction function, T x, T y) where T : unmanaged, IFloatingPointIeee754<T> => function switch
    {
        BinaryFunction.Add => x + y,
        BinaryFunction.Sub => x - y,
        BinaryFunction.Mul => x * y,
        _ => x / y,
    };

    private static void Apply<T>(BinaryFunction function, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (function)
        {
            case BinaryFunction.Add: TensorPrimitives.Add(x, y, destination); break;
            case BinaryFunction.Sub: TensorPrimitives.Subtract(x, y, destination); break;
            case BinaryFunction.Mul: TensorPrimitives.Multiply(x, y, destination); break;
            default: TensorPrimitives.Divide(x, y, destination); break;
        }
    }

    private static void ApplyScalarRight<T>(BinaryFunction function, ReadOnlySpan<T> x, T y, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (function)
        {
            case BinaryFunction.Add: TensorPrimitives.Add(x, y, destination); break;
            case BinaryFunction.Sub: TensorPrimitives.Subtract(x, y, destination); break;
            case BinaryFunction.Mul: TensorPrimitives.Multiply(x, y, destination); break;
            default: TensorPrimitives.Divide(x, y, destination); break;
        }
    }

    private static void ApplyScalarLeft<T>(BinaryFunction function, T x, ReadOnlySpan<T> y, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (function)
        {
            case BinaryFunction.Add: TensorPrimitives.Add(y, x, destination); break;
            case BinaryFunction.Sub: TensorPrimitives.Subtract(x, y, destination); break;
            case BinaryFunction.Mul: TensorPrimitives.Multiply(y, x, destination); break;
            default: TensorPrimitives.Divide(x, y, destination); break;
        }
    }
}

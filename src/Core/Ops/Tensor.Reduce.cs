using System.Numerics.Tensors;

namespace DeformEngine;

/// <summary>Sums and means over all elements or along one axis.</summary>
public sealed partial class Tensor<T>
{
    /// <summary>Sum of all elements as a 0-dimensional tensor.</summary>
    public Tensor<T> Sum()
    {
        var output = IsOnDevice ? DeviceSum() : Scalar(TensorPrimitives.Sum<T>(CpuData));
        var shape = _shape;
        return Autograd.Record(output, "Sum", (g, _) => [g.IsOnDevice ? g.DeviceBroadcastFirst(shape) : Full(g.CpuData[0], shape)], this);
    }

    public Tensor<T> Mean() => Sum().MulScalar(T.One / T.CreateChecked(Math.Max(Numel, 1)));

    /// <summary>Sum along <paramref name="axis"/>; the axis is kept with size 1 when
    /// <paramref name="keepDim"/>.</summary>
    public Tensor<T> Sum(int axis, bool keepDim = false)
    {
        int ax = ShapeMath.NormalizeAxis(axis, _shape.Length, nameof(axis));
        if (IsOnDevice) return DeviceSumAlongAxis(ax, keepDim);
        var (outer, size, inner) = Split(ax);
        var src = CpuData;
        var result = new T[outer * inner];
        for (int o = 0; o < outer; o++)
        {
            var dst = result.AsSpan(o * inner, inner);
            for (int s = 0; s < size; s++)
                TensorPrimitives.Add(dst, src.AsSpan((o * size + s) * inner, inner), dst);
        }
        var kept = (int[])_shape.Clone();
        kept[ax] = 1;
        var output = Wrap(result, keepDim ? kept : RemoveAxis(_shape, ax));
        var shape = _shape;
        return Autograd.Record(output, "SumAxis", (g, _) =>
        {
            // Broadcasting the kept-dim gradient back over the axis.
            var expanded = new T[ShapeMath.Numel(shape)];
            var gd = g.CpuData;
            for (int o = 0; o < outer; o++)
                for (int s = 0; s < size; s++)
                    gd.AsSpan(o * inner, inner).CopyTo(expanded.AsSpan((o * size + s) * inner, inner));
            return [Wrap(expanded, shape)];
        }, this);
    }

    public Tensor<T> Mean(int axis, bool keepDim = false)
    {
        int ax = ShapeMath.NormalizeAxis(axis, _shape.Length, nameof(axis));
        return Sum(ax, keepDim).MulScalar(T.One / T.CreateChecked(Math.Max(_shape[ax], 1)));
    }

    /// <summary>(product of dims before axis, axis size, product of dims after axis).</summary>
    internal (int Outer, int Size, int Inner) Split(int axis)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= _shape[d];
        for (int d = axis + 1; d < _shape.Length; d++) inner *= _shape[d];
        return (outer, _shape[axis], inner);
    }

    private static int[] RemoveAxis(int[] shape, int axis)
    {
        var result = new int[shape.Length - 1];
        for (int d = 0, k = 0; d < shape.Length; d++)
            if (d != axis) result[k++] = shape[d];
        return result;
    }
}

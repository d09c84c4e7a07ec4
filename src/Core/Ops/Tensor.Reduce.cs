namespace DeformEngine;

/// <summary>Sums and means over all elements or along one axis.</summary>
public sealed partial class Tensor<T>
{
    /// <summary>Sum of all elements as a 0-dimensional tensor.</summary>
    public Tensor<T> Sum()
    {
        var output = Backend.SumToShape(this, []);
        var shape = _shape;
        return Autograd.Record(output, "Sum", (g, _) => [g.Backend.BroadcastTo(g, shape)], this);
    }

    /// <summary>Mean of all elements as a 0-dimensional tensor (0 for an empty tensor: the sum is divided by max(Numel,
    /// 1)).</summary>
    public Tensor<T> Mean() => Sum().MulScalar(T.One / T.CreateChecked(Math.Max(Numel, 1)));

    /// <summary>Sum along <paramref name="axis"/>; the axis is kept with size 1 when
    /// <paramref name="keepDim"/>.</summary>
    public Tensor<T> Sum(int axis, bool keepDim = false)
    {
        int ax = ShapeMath.NormalizeAxis(axis, _shape.Length, nameof(axis));
        var kept = (int[])_shape.Clone();
        kept[ax] = 1;
        var summed = Backend.SumToShape(this, kept);
        var output = keepDim ? summed : summed.View(RemoveAxis(_shape, ax));
        var shape = _shape;
        // Broadcasting the kept-dim gradient back over the axis.
        return Autograd.Record(output, "SumAxis", (g, _) => [g.Backend.BroadcastTo(g.View(kept), shape)], this);
    }

    /// <summary>Mean along <paramref name="axis"/> (negative counts from the end); the axis is kept with size 1 when
    /// <paramref name="keepDim"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside [−Rank, Rank).</exception>
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

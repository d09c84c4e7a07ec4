using System.Numerics.Tensors;

namespace DeformEngine;

/// <summary>Elementwise arithmetic with NumPy broadcasting. Gradients of broadcast operands are
/// summed back to the operand's shape.</summary>
public sealed partial class Tensor<T>
{
    private enum BinaryOp { Add, Sub, Mul, Div }

    public Tensor<T> Add(Tensor<T> other) => Binary(this, other, BinaryOp.Add);
    public Tensor<T> Sub(Tensor<T> other) => Binary(this, other, BinaryOp.Sub);
    public Tensor<T> Mul(Tensor<T> other) => Binary(this, other, BinaryOp.Mul);
    public Tensor<T> Div(Tensor<T> other) => Binary(this, other, BinaryOp.Div);

    public static Tensor<T> operator +(Tensor<T> a, Tensor<T> b) => Binary(a, b, BinaryOp.Add);
    public static Tensor<T> operator -(Tensor<T> a, Tensor<T> b) => Binary(a, b, BinaryOp.Sub);
    public static Tensor<T> operator *(Tensor<T> a, Tensor<T> b) => Binary(a, b, BinaryOp.Mul);
    public static Tensor<T> operator /(Tensor<T> a, Tensor<T> b) => Binary(a, b, BinaryOp.Div);

    public static Tensor<T> operator +(Tensor<T> a, T b) => a.AddScalar(b);
    public static Tensor<T> operator +(T a, Tensor<T> b) => b.AddScalar(a);
    public static Tensor<T> operator -(Tensor<T> a, T b) => a.AddScalar(-b);
    public static Tensor<T> operator -(T a, Tensor<T> b) => b.Neg().AddScalar(a);
    public static Tensor<T> operator *(Tensor<T> a, T b) => a.MulScalar(b);
    public static Tensor<T> operator *(T a, Tensor<T> b) => b.MulScalar(a);
    public static Tensor<T> operator /(Tensor<T> a, T b) => a.MulScalar(T.One / b);
    public static Tensor<T> operator /(T a, Tensor<T> b) => b.Reciprocal().MulScalar(a);
    public static Tensor<T> operator -(Tensor<T> a) => a.Neg();

    public Tensor<T> AddScalar(T value)
    {
        var output = IsOnDevice ? DeviceScalar(DeviceScalarOp.Add, value) : CpuMap((x, d) => TensorPrimitives.Add(x, value, d));
        return Autograd.Record(output, "AddScalar", (g, _) => [g], this);
    }

    public Tensor<T> MulScalar(T value)
    {
        var output = IsOnDevice ? DeviceScalar(DeviceScalarOp.Mul, value) : CpuMap((x, d) => TensorPrimitives.Multiply(x, value, d));
        return Autograd.Record(output, "MulScalar", (g, _) => [g.MulScalar(value)], this);
    }

    public Tensor<T> Reciprocal()
    {
        var output = IsOnDevice ? DeviceUnary(DeviceUnaryOp.Reciprocal) : CpuMap((x, d) => TensorPrimitives.Divide(T.One, x, d));
        // d(1/x)/dx = −1/x² = −out²
        return Autograd.Record(output, "Reciprocal", (g, _) => [g.Mul(output.Mul(output)).Neg()], this);
    }

    /// <summary>this += other without recording (same shapes); used to accumulate gradients.</summary>
    internal Tensor<T> AddInPlace(Tensor<T> other)
    {
        ShapeMath.RequireShape(nameof(other), other._shape, _shape);
        if (IsOnDevice || other.IsOnDevice) DeviceAddInPlace(other);
        else TensorPrimitives.Add(CpuData, other.CpuData, CpuData);
        return this;
    }

    private static Tensor<T> Binary(Tensor<T> a, Tensor<T> b, BinaryOp op)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var shape = ShapeMath.Broadcast(a._shape, b._shape, "other");
        var output = a.IsOnDevice || b.IsOnDevice ? DeviceBinary(a, b, shape, op) : Wrap(BroadcastApply(a, b, shape, op), shape);
        return Autograd.Record(output, op.ToString(), (g, needs) =>
        {
            Tensor<T>? ga = null, gb = null;
            switch (op)
            {
                case BinaryOp.Add:
                    if (needs[0]) ga = g.SumToShape(a._shape);
                    if (needs[1]) gb = g.SumToShape(b._shape);
                    break;
                case BinaryOp.Sub:
                    if (needs[0]) ga = g.SumToShape(a._shape);
                    if (needs[1]) gb = g.Neg().SumToShape(b._shape);
                    break;
                case BinaryOp.Mul:
                    if (needs[0]) ga = g.Mul(b).SumToShape(a._shape);
                    if (needs[1]) gb = g.Mul(a).SumToShape(b._shape);
                    break;
                case BinaryOp.Div:
                    if (needs[0]) ga = g.Div(b).SumToShape(a._shape);
                    // d(a/b)/db = −a/b²
                    if (needs[1]) gb = g.Mul(a).Div(b.Mul(b)).Neg().SumToShape(b._shape);
                    break;
            }
            return [ga, gb];
        }, a, b);
    }

    private static T[] BroadcastApply(Tensor<T> a, Tensor<T> b, int[] shape, BinaryOp op)
    {
        var result = new T[ShapeMath.Numel(shape)];
        if (result.Length == 0) return result;
        T[] x = a.CpuData, y = b.CpuData;
        if (a.Numel == result.Length && b.Numel == result.Length)
        {
            Apply(op, x, y, result);
            return result;
        }
        // Walk the output row by row (last dimension contiguous); each operand's row is either
        // contiguous or a single broadcast value.
        int rank = Math.Max(shape.Length, 1);
        var outShape = shape.Length == 0 ? [1] : shape;
        var sa = ShapeMath.BroadcastStrides(a._shape, outShape);
        var sb = ShapeMath.BroadcastStrides(b._shape, outShape);
        int inner = outShape[rank - 1];
        int rows = result.Length / inner;
        var counter = new int[rank];
        int offA = 0, offB = 0;
        for (int row = 0; row < rows; row++)
        {
            var dst = result.AsSpan(row * inner, inner);
            bool aRow = sa[rank - 1] != 0, bRow = sb[rank - 1] != 0;
            if (aRow && bRow) Apply(op, x.AsSpan(offA, inner), y.AsSpan(offB, inner), dst);
            else if (aRow) ApplyScalarRight(op, x.AsSpan(offA, inner), y[offB], dst);
            else if (bRow) ApplyScalarLeft(op, x[offA], y.AsSpan(offB, inner), dst);
            else dst.Fill(Scalar(op, x[offA], y[offB]));
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
        return result;
    }

    private static T Scalar(BinaryOp op, T x, T y) => op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Sub => x - y,
        BinaryOp.Mul => x * y,
        _ => x / y,
    };

    private static void Apply(BinaryOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> dst)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(x, y, dst); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, dst); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(x, y, dst); break;
            default: TensorPrimitives.Divide(x, y, dst); break;
        }
    }

    private static void ApplyScalarRight(BinaryOp op, ReadOnlySpan<T> x, T y, Span<T> dst)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(x, y, dst); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, dst); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(x, y, dst); break;
            default: TensorPrimitives.Divide(x, y, dst); break;
        }
    }

    private static void ApplyScalarLeft(BinaryOp op, T x, ReadOnlySpan<T> y, Span<T> dst)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(y, x, dst); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, dst); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(y, x, dst); break;
            default: TensorPrimitives.Divide(x, y, dst); break;
        }
    }

    /// <summary>Sums a broadcast gradient back to <paramref name="shape"/> (no recording).</summary>
    internal Tensor<T> SumToShape(int[] shape)
    {
        if (_shape.AsSpan().SequenceEqual(shape)) return this;
        if (IsOnDevice) return DeviceSumToShape(shape);
        var result = new T[ShapeMath.Numel(shape)];
        var src = CpuData;
        if (result.Length == 1)
        {
            result[0] = TensorPrimitives.Sum<T>(src);
            return Wrap(result, shape);
        }
        int rank = _shape.Length;
        var strides = ShapeMath.BroadcastStrides(shape, _shape);
        var counter = new int[rank];
        int target = 0;
        for (int i = 0; i < src.Length; i++)
        {
            result[target] += src[i];
            for (int d = rank - 1; d >= 0; d--)
            {
                counter[d]++;
                target += strides[d];
                if (counter[d] < _shape[d]) break;
                target -= strides[d] * _shape[d];
                counter[d] = 0;
            }
        }
        return Wrap(result, shape);
    }
}

namespace DeformEngine;

/// <summary>Elementwise arithmetic with NumPy broadcasting. Gradients of broadcast operands are
/// summed back to the operand's shape.</summary>
public sealed partial class Tensor<T>
{
    /// <summary>this + other, broadcast (NumPy rules); d/dthis = d/dother = 1.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast, or the tensors live on different
    /// devices.</exception>
    public Tensor<T> Add(Tensor<T> other) => Binary(this, other, BinaryFunction.Add);
    /// <summary>this − other, broadcast (NumPy rules); d/dthis = 1, d/dother = −1.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast, or the tensors live on different
    /// devices.</exception>
    public Tensor<T> Sub(Tensor<T> other) => Binary(this, other, BinaryFunction.Sub);
    /// <summary>this ⊙ other, broadcast (NumPy rules); d/dthis = other, d/dother = this.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast, or the tensors live on different
    /// devices.</exception>
    public Tensor<T> Mul(Tensor<T> other) => Binary(this, other, BinaryFunction.Mul);
    /// <summary>this / other, broadcast (NumPy rules); d/dthis = 1/other, d/dother = −this/other².</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast, or the tensors live on different
    /// devices.</exception>
    public Tensor<T> Div(Tensor<T> other) => Binary(this, other, BinaryFunction.Div);

    /// <summary>a + b, broadcast; see <see cref="Add"/>.</summary>
    public static Tensor<T> operator +(Tensor<T> a, Tensor<T> b) => Binary(a, b, BinaryFunction.Add);
    /// <summary>a − b, broadcast; see <see cref="Sub"/>.</summary>
    public static Tensor<T> operator -(Tensor<T> a, Tensor<T> b) => Binary(a, b, BinaryFunction.Sub);
    /// <summary>a ⊙ b (elementwise, not the matrix product: <see cref="MatMul"/>), broadcast; see
    /// <see cref="Mul"/>.</summary>
    public static Tensor<T> operator *(Tensor<T> a, Tensor<T> b) => Binary(a, b, BinaryFunction.Mul);
    /// <summary>a / b elementwise, broadcast; see <see cref="Div"/>.</summary>
    public static Tensor<T> operator /(Tensor<T> a, Tensor<T> b) => Binary(a, b, BinaryFunction.Div);

    /// <summary>a + b for every element of a.</summary>
    public static Tensor<T> operator +(Tensor<T> a, T b) => a.AddScalar(b);
    /// <summary>a + b for every element of b.</summary>
    public static Tensor<T> operator +(T a, Tensor<T> b) => b.AddScalar(a);
    /// <summary>a − b for every element of a.</summary>
    public static Tensor<T> operator -(Tensor<T> a, T b) => a.AddScalar(-b);
    /// <summary>a − b for every element of b.</summary>
    public static Tensor<T> operator -(T a, Tensor<T> b) => b.Neg().AddScalar(a);
    /// <summary>a·b for every element of a.</summary>
    public static Tensor<T> operator *(Tensor<T> a, T b) => a.MulScalar(b);
    /// <summary>a·b for every element of b.</summary>
    public static Tensor<T> operator *(T a, Tensor<T> b) => b.MulScalar(a);
    /// <summary>a·(1/b) for every element of a.</summary>
    public static Tensor<T> operator /(Tensor<T> a, T b) => a.MulScalar(T.One / b);
    /// <summary>a / b for every element of b; d/db = −a/b².</summary>
    public static Tensor<T> operator /(T a, Tensor<T> b) => b.Reciprocal().MulScalar(a);
    /// <summary>−a; see <see cref="Neg"/>.</summary>
    public static Tensor<T> operator -(Tensor<T> a) => a.Neg();

    /// <summary>this += other without recording (same shapes and device); used to accumulate gradients.</summary>
    internal Tensor<T> AddInPlace(Tensor<T> other)
    {
        ShapeMath.RequireShape(nameof(other), other._shape, _shape);
        RequireSameDevice(this, other, nameof(other));
        Backend.AddInPlace(this, other);
        MarkWritten();
        return this;
    }

    private static Tensor<T> Binary(Tensor<T> a, Tensor<T> b, BinaryFunction op)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var shape = ShapeMath.Broadcast(a._shape, b._shape, "other");
        RequireSameDevice(a, b, "other");
        var output = a.Backend.Binary(op, a, b, shape);
        return Autograd.Record(output, op.ToString(), (g, needs) =>
        {
            Tensor<T>? ga = null, gb = null;
            switch (op)
            {
                case BinaryFunction.Add:
                    if (needs[0]) ga = g.SumToShape(a._shape);
                    if (needs[1]) gb = g.SumToShape(b._shape);
                    break;
                case BinaryFunction.Sub:
                    if (needs[0]) ga = g.SumToShape(a._shape);
                    if (needs[1]) gb = g.Neg().SumToShape(b._shape);
                    break;
                case BinaryFunction.Mul:
                    if (needs[0]) ga = g.Mul(b).SumToShape(a._shape);
                    if (needs[1]) gb = g.Mul(a).SumToShape(b._shape);
                    break;
                case BinaryFunction.Div:
                    if (needs[0]) ga = g.Div(b).SumToShape(a._shape);
                    // d(a/b)/db = −a/b²
                    if (needs[1]) gb = g.Mul(a).Div(b.Mul(b)).Neg().SumToShape(b._shape);
                    break;
            }
            return [ga, gb];
        }, a, b);
    }

    /// <summary>Sums a broadcast gradient back to <paramref name="shape"/> (no recording).</summary>
    internal Tensor<T> SumToShape(int[] shape) =>
        _shape.AsSpan().SequenceEqual(shape) ? this : Backend.SumToShape(this, shape);
}

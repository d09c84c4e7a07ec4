namespace DeformEngine;

/// <summary>Elementwise functions; each backward uses the saved input or output.</summary>
public sealed partial class Tensor<T>
{
    /// <summary>function(this) on this tensor's backend, recorded with <paramref name="backward"/>
    /// (given the upstream gradient and the output).</summary>
    private Tensor<T> Unary(UnaryFunction function, Func<Tensor<T>, Tensor<T>, Tensor<T>> backward)
    {
        var output = Backend.Unary(function, this);
        return Autograd.Record(output, function.ToString(), (g, _) => [backward(g, output)], this);
    }

    /// <summary>−x; d(−x) = −1.</summary>
    public Tensor<T> Neg() => Unary(UnaryFunction.Neg, (g, _) => g.Neg());

    /// <summary>d exp(x) = exp(x).</summary>
    public Tensor<T> Exp() => Unary(UnaryFunction.Exp, (g, y) => g.Mul(y));

    /// <summary>d log(x) = 1/x.</summary>
    public Tensor<T> Log()
    {
        var input = this;
        return Unary(UnaryFunction.Log, (g, _) => g.Div(input));
    }

    /// <summary>d √x = 1/(2√x).</summary>
    public Tensor<T> Sqrt() => Unary(UnaryFunction.Sqrt, (g, y) => g.Div(y).MulScalar(T.CreateChecked(0.5)));

    /// <summary>NOTE: the subgradient at 0 is taken as 0, as in PyTorch.</summary>
    public Tensor<T> Relu()
    {
        var input = this;
        return Unary(UnaryFunction.Relu, (g, _) => g.Backend.UnaryBackward(UnaryFunction.Relu, g, input));
    }

    /// <summary>d σ(x) = σ(x)(1 − σ(x)).</summary>
    public Tensor<T> Sigmoid() => Unary(UnaryFunction.Sigmoid, (g, y) => g.Mul(y.Mul(y.Neg().AddScalar(T.One))));

    /// <summary>d tanh(x) = 1 − tanh²(x).</summary>
    public Tensor<T> Tanh() => Unary(UnaryFunction.Tanh, (g, y) => g.Mul(y.Mul(y).Neg().AddScalar(T.One)));

    /// <summary>NOTE: the subgradient at 0 is taken as 0.</summary>
    public Tensor<T> Abs()
    {
        var input = this;
        return Unary(UnaryFunction.Abs, (g, _) => g.Backend.UnaryBackward(UnaryFunction.Abs, g, input));
    }

    /// <summary>d(1/x)/dx = −1/x² = −out².</summary>
    public Tensor<T> Reciprocal() => Unary(UnaryFunction.Reciprocal, (g, y) => g.Mul(y.Mul(y)).Neg());

    /// <summary>function(this, value) on this tensor's backend, recorded with <paramref name="backward"/>
    /// (given the upstream gradient).</summary>
    private Tensor<T> Scalar(ScalarFunction function, T value, Func<Tensor<T>, Tensor<T>> backward)
    {
        var output = Backend.Scalar(function, this, value);
        return Autograd.Record(output, function + "Scalar", (g, _) => [backward(g)], this);
    }

    /// <summary>x + value for every element; d/dx = 1.</summary>
    public Tensor<T> AddScalar(T value) => Scalar(ScalarFunction.Add, value, g => g);

    /// <summary>x·value for every element; d/dx = value.</summary>
    public Tensor<T> MulScalar(T value) => Scalar(ScalarFunction.Mul, value, g => g.MulScalar(value));

    /// <summary>d xᵖ = p·xᵖ⁻¹.</summary>
    public Tensor<T> Pow(T exponent)
    {
        var input = this;
        return Scalar(ScalarFunction.Pow, exponent, g => g.Mul(input.Pow(exponent - T.One)).MulScalar(exponent));
    }
}

using System.Numerics.Tensors;

namespace DeformEngine;

/// <summary>Elementwise functions; each backward uses the saved input or output.</summary>
public sealed partial class Tensor<T>
{
    private delegate void SpanFunction(ReadOnlySpan<T> x, Span<T> destination);

    private Tensor<T> Unary(string name, SpanFunction forward, Func<Tensor<T>, Tensor<T>, Tensor<T>> backward,
        Func<Tensor<T>>? onDevice = null)
    {
        var output = IsOnDevice ? onDevice?.Invoke() ?? DeviceUnary(name) : CpuMap(forward);
        var input = this;
        return Autograd.Record(output, name, (g, _) => [backward(g, output)], input);
    }

    /// <summary>A new CPU tensor of this shape holding forward(this).</summary>
    private Tensor<T> CpuMap(SpanFunction forward)
    {
        var result = new T[Numel];
        // Some TensorPrimitives functions (Sigmoid) reject empty spans; an empty tensor maps to itself.
        if (result.Length > 0) forward(CpuData, result);
        return Wrap(result, _shape);
    }

    public Tensor<T> Neg() => Unary("Neg", TensorPrimitives.Negate, (g, _) => g.Neg());

    /// <summary>d exp(x) = exp(x).</summary>
    public Tensor<T> Exp() => Unary("Exp", TensorPrimitives.Exp, (g, y) => g.Mul(y));

    /// <summary>d log(x) = 1/x.</summary>
    public Tensor<T> Log()
    {
        var input = this;
        return Unary("Log", TensorPrimitives.Log, (g, _) => g.Div(input));
    }

    /// <summary>d √x = 1/(2√x).</summary>
    public Tensor<T> Sqrt() => Unary("Sqrt", TensorPrimitives.Sqrt, (g, y) => g.Div(y).MulScalar(T.CreateChecked(0.5)));

    /// <summary>d xᵖ = p·xᵖ⁻¹.</summary>
    public Tensor<T> Pow(T exponent)
    {
        var input = this;
        return Unary("Pow", (x, d) => TensorPrimitives.Pow(x, exponent, d),
            (g, _) => g.Mul(input.Pow(exponent - T.One)).MulScalar(exponent), () => DeviceScalar(DeviceScalarOp.Pow, exponent));
    }

    /// <summary>NOTE: the subgradient at 0 is taken as 0, as in PyTorch.</summary>
    public Tensor<T> Relu()
    {
        var input = this;
        return Unary("Relu", (x, d) => TensorPrimitives.Max(x, T.Zero, d), (g, _) =>
        {
            if (input.IsOnDevice) return g.DeviceBinary(DeviceBinaryOp.ReluBackward, input, input._shape);
            var grad = g.ToArray();
            var x = input.CpuData;
            for (int i = 0; i < grad.Length; i++)
                if (!(x[i] > T.Zero)) grad[i] = T.Zero;
            return Wrap(grad, input._shape);
        });
    }

    /// <summary>d σ(x) = σ(x)(1 − σ(x)).</summary>
    public Tensor<T> Sigmoid() => Unary("Sigmoid", TensorPrimitives.Sigmoid, (g, y) => g.Mul(y.Mul(y.Neg().AddScalar(T.One))));

    /// <summary>d tanh(x) = 1 − tanh²(x).</summary>
    public Tensor<T> Tanh() => Unary("Tanh", TensorPrimitives.Tanh, (g, y) => g.Mul(y.Mul(y).Neg().AddScalar(T.One)));

    /// <summary>NOTE: the subgradient at 0 is taken as 0.</summary>
    public Tensor<T> Abs()
    {
        var input = this;
        return Unary("Abs", TensorPrimitives.Abs, (g, _) =>
        {
            if (input.IsOnDevice) return g.DeviceBinary(DeviceBinaryOp.AbsBackward, input, input._shape);
            var grad = g.ToArray();
            var x = input.CpuData;
            for (int i = 0; i < grad.Length; i++)
                grad[i] = x[i] > T.Zero ? grad[i] : x[i] < T.Zero ? -grad[i] : T.Zero;
            return Wrap(grad, input._shape);
        });
    }
}

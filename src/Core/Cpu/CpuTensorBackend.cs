using System.Numerics;
using System.Numerics.Tensors;

namespace DeformEngine.Cpu;

/// <summary>The CPU's <see cref="ITensorBackend"/>: managed arrays, vectorised elementwise loops
/// (TensorPrimitives) and the blocked GEMM. Elementwise functions and reductions here.</summary>
internal sealed partial class CpuTensorBackend : ITensorBackend
{
    public static CpuTensorBackend Instance { get; } = new();

    private CpuTensorBackend()
    {
    }

    public Tensor<T> Full<T>(T value, int[] shape) where T : unmanaged, IFloatingPointIeee754<T> =>
        Tensor<T>.Full(value, shape);

    public Tensor<T> Clone<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Tensor<T>.Wrap((T[])x.CpuData.Clone(), (int[])x.ShapeArray.Clone());

    public void Assign<T>(Tensor<T> destination, Tensor<T> source) where T : unmanaged, IFloatingPointIeee754<T> =>
        source.CpuData.CopyTo(destination.CpuData, 0);

    public void AddInPlace<T>(Tensor<T> destination, Tensor<T> source) where T : unmanaged, IFloatingPointIeee754<T> =>
        TensorPrimitives.Add(destination.CpuData, source.CpuData, destination.CpuData);

    public Tensor<T> Unary<T>(UnaryFunction function, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Map(x, function switch
        {
            UnaryFunction.Neg => TensorPrimitives.Negate,
            UnaryFunction.Exp => TensorPrimitives.Exp,
            UnaryFunction.Log => TensorPrimitives.Log,
            UnaryFunction.Sqrt => TensorPrimitives.Sqrt,
            UnaryFunction.Relu => static (source, destination) => TensorPrimitives.Max(source, T.Zero, destination),
            UnaryFunction.Sigmoid => TensorPrimitives.Sigmoid,
            UnaryFunction.Tanh => TensorPrimitives.Tanh,
            UnaryFunction.Abs => TensorPrimitives.Abs,
            UnaryFunction.Reciprocal => static (source, destination) => TensorPrimitives.Divide(T.One, source, destination),
            _ => throw new ArgumentOutOfRangeException(nameof(function), function, "Unknown unary function."),
        });

    public Tensor<T> UnaryBackward<T>(UnaryFunction function, Tensor<T> grad, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = grad.ToArray();
        var input = x.CpuData;
        switch (function)
        {
            case UnaryFunction.Relu:
                for (int i = 0; i < result.Length; i++)
                    if (!(input[i] > T.Zero)) result[i] = T.Zero;
                break;
            case UnaryFunction.Abs:
                for (int i = 0; i < result.Length; i++)
                    result[i] = input[i] > T.Zero ? result[i] : input[i] < T.Zero ? -result[i] : T.Zero;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(function), function, "Only Relu and Abs have a step derivative.");
        }
        return Tensor<T>.Wrap(result, x.ShapeArray);
    }

    public Tensor<T> Scalar<T>(ScalarFunction function, Tensor<T> x, T value) where T : unmanaged, IFloatingPointIeee754<T> =>
        function switch
        {
            ScalarFunction.Add => Map(x, (source, destination) => TensorPrimitives.Add(source, value, destination)),
            ScalarFunction.Mul => Map(x, (source, destination) => TensorPrimitives.Multiply(source, value, destination)),
            ScalarFunction.Pow => Map(x, (source, destination) => TensorPrimitives.Pow(source, value, destination)),
            _ => throw new ArgumentOutOfRangeException(nameof(function), function, "Unknown scalar function."),
        };

    public Tensor<T> Softmax<T>(Tensor<T> x, int axis, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (outer, size, inner) = x.Split(axis);
        var source = x.CpuData;
        var result = new T[x.Numel];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int baseIndex = o * size * inner + i;
                T max = T.NegativeInfinity;
                for (int s = 0; s < size; s++) max = T.Max(max, source[baseIndex + s * inner]);
                T sum = T.Zero;
                for (int s = 0; s < size; s++) sum += T.Exp(source[baseIndex + s * inner] - max);
                T logSum = T.Log(sum);
                for (int s = 0; s < size; s++)
                {
                    T shifted = source[baseIndex + s * inner] - max - logSum;
                    result[baseIndex + s * inner] = log ? shifted : T.Exp(shifted);
                }
            }
        }
        return Tensor<T>.Wrap(result, x.ShapeArray);
    }

    public Tensor<T> Gemm<T>(GemmShape shape, Tensor<T> a, Tensor<T> b, int[] resultShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, m, n, k) = (shape.Batch, shape.M, shape.N, shape.K);
        var result = new T[(long)batch * m * n];
        T[] left = a.CpuData, right = b.CpuData;
        for (int i = 0; i < batch; i++)
            Cpu.Gemm.Multiply(shape.TransA, shape.TransB, m, n, k, T.One,
                left.AsSpan((int)(i * shape.StrideA), m * k), shape.TransA ? m : k,
                right.AsSpan((int)(i * shape.StrideB), k * n), shape.TransB ? k : n,
                T.Zero, result.AsSpan(i * m * n, m * n), n);
        return Tensor<T>.Wrap(result, resultShape);
    }

    private delegate void SpanFunction<T>(ReadOnlySpan<T> source, Span<T> destination);

    /// <summary>A new tensor of x's shape holding function(x).</summary>
    private static Tensor<T> Map<T>(Tensor<T> x, SpanFunction<T> function) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[x.Numel];
        // Some TensorPrimitives functions (Sigmoid) reject empty spans; an empty tensor maps to itself.
        if (result.Length > 0) function(x.CpuData, result);
        return Tensor<T>.Wrap(result, x.ShapeArray);
    }
}

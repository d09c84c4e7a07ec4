using System.Numerics;

namespace DeformEngine;

/// <summary>Elementwise functions of one tensor.</summary>
public enum UnaryFunction
{
    /// <summary>−x.</summary>
    Neg,
    /// <summary>eˣ.</summary>
    Exp,
    /// <summary>Natural logarithm ln x (−∞ at 0, NaN below).</summary>
    Log,
    /// <summary>√x (NaN below 0).</summary>
    Sqrt,
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>σ(x) = 1 / (1 + e⁻ˣ).</summary>
    Sigmoid,
    /// <summary>tanh x.</summary>
    Tanh,
    /// <summary>|x|.</summary>
    Abs,
    /// <summary>1/x (±∞ at ±0).</summary>
    Reciprocal,
}

/// <summary>Elementwise functions of two tensors (with NumPy broadcasting).</summary>
public enum BinaryFunction
{
    /// <summary>a + b.</summary>
    Add,
    /// <summary>a − b.</summary>
    Sub,
    /// <summary>a·b.</summary>
    Mul,
    /// <summary>a / b (IEEE: ±∞ or NaN where b = 0).</summary>
    Div,
}

/// <summary>Elementwise functions of a tensor and a scalar (<see cref="Pow"/>: x to the scalar power).</summary>
public enum ScalarFunction
{
    /// <summary>x + s.</summary>
    Add,
    /// <summary>x·s.</summary>
    Mul,
    /// <summary>xˢ.</summary>
    Pow,
}

/// <summary>Sizes of a batched product C_i = op(A_i)·op(B_i), i &lt; <see cref="Batch"/>: op(A) is
/// <see cref="M"/>×<see cref="K"/>, op(B) <see cref="K"/>×<see cref="N"/>, every operand dense and
/// row-major (A stored m×k, or k×m when <see cref="TransA"/>); A_i starts i·<see cref="StrideA"/>
/// elements in, B_i i·<see cref="StrideB"/> (0 shares B across the batch), C_i i·m·n.</summary>
public readonly record struct GemmShape(int Batch, int M, int N, int K, long StrideA, bool TransA, long StrideB, bool TransB);

/// <summary>
/// The tensor primitives of Core, one method per primitive: what a backend implements so that the
/// operations of <see cref="Tensor{T}"/> run on its device. The CPU is one implementation (managed
/// arrays, TensorPrimitives, the blocked GEMM); a GPU device is another. Every operand lives on the
/// backend's device; results are new tensors there (except the in-place methods). Shapes are checked by
/// the caller. Nothing here records autograd: <see cref="Tensor{T}"/> records each operation once.
/// </summary>
public interface ITensorBackend
{
    /// <summary>A new tensor of <paramref name="shape"/> with every element <paramref name="value"/>.</summary>
    Tensor<T> Full<T>(T value, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A copy of <paramref name="x"/>'s data.</summary>
    Tensor<T> Clone<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>destination ← source, in place (same shape and device).</summary>
    void Assign<T>(Tensor<T> destination, Tensor<T> source) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>destination += source, in place (same shape and device).</summary>
    void AddInPlace<T>(Tensor<T> destination, Tensor<T> source) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A new tensor of x's shape with <paramref name="function"/> applied to every element.</summary>
    Tensor<T> Unary<T>(UnaryFunction function, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>grad ⊙ f′(x) for the functions whose derivative is a step: <see cref="UnaryFunction.Relu"/>
    /// (1 where x &gt; 0, else 0) and <see cref="UnaryFunction.Abs"/> (sign of x, 0 at 0).</summary>
    Tensor<T> UnaryBackward<T>(UnaryFunction function, Tensor<T> grad, Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A new tensor of x's shape with <paramref name="function"/>(element, <paramref name="value"/>) for every
    /// element.</summary>
    Tensor<T> Scalar<T>(ScalarFunction function, Tensor<T> x, T value) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>a op b broadcast to <paramref name="shape"/> (NumPy rules).</summary>
    Tensor<T> Binary<T>(BinaryFunction function, Tensor<T> a, Tensor<T> b, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The sum of <paramref name="x"/> over every dimension that broadcasting <paramref name="shape"/>
    /// to x's shape adds or stretches from 1, in row-major order: the adjoint of <see cref="BroadcastTo{T}"/>.
    /// Covers the sum of everything (shape []) and along axes (size-1 dimensions kept).</summary>
    Tensor<T> SumToShape<T>(Tensor<T> x, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary><paramref name="x"/> repeated along the dimensions where broadcasting to <paramref name="shape"/>
    /// adds or stretches it.</summary>
    Tensor<T> BroadcastTo<T>(Tensor<T> x, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Result dimension i is x's dimension perm[i].</summary>
    Tensor<T> Permute<T>(Tensor<T> x, int[] perm) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The tensors joined along <paramref name="axis"/> into <paramref name="shape"/>.</summary>
    Tensor<T> Cat<T>(Tensor<T>[] tensors, int axis, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Elements [start, start + length) of <paramref name="axis"/>.</summary>
    Tensor<T> Slice<T>(Tensor<T> x, int axis, int start, int length) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The adjoint of <see cref="Slice{T}"/>: zeros of <paramref name="shape"/> with
    /// <paramref name="grad"/> at [start, start + grad's length) of <paramref name="axis"/>.</summary>
    Tensor<T> SliceBackward<T>(Tensor<T> grad, int[] shape, int axis, int start) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Softmax (or log-softmax) along <paramref name="axis"/>, the maximum subtracted first.</summary>
    Tensor<T> Softmax<T>(Tensor<T> x, int axis, bool log) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The batched product of <paramref name="shape"/> as a tensor of <paramref name="resultShape"/>
    /// (Batch·M·N elements). Each C_i is summed in a fixed order.</summary>
    Tensor<T> Gemm<T>(GemmShape shape, Tensor<T> a, Tensor<T> b, int[] resultShape) where T : unmanaged, IFloatingPointIeee754<T>;
}

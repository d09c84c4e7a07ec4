namespace DeformEngine;

/// <summary>Squared error (x − y)² per element, reduced by <see cref="Reduction"/> (mean by default).
/// Gradients: ∂L/∂x = 2(x − y)·g (÷ numel for the mean), ∂L/∂y = −∂L/∂x.</summary>
public static partial class Functional
{
    /// <summary>ℓ = (x − y)² elementwise, reduced.</summary>
    /// <param name="input">x, any shape.</param>
    /// <param name="target">y, the shape of <paramref name="input"/>; differentiable too.</param>
    /// <param name="reduction">Mean or sum over all elements, or None for the elementwise losses.</param>
    /// <returns>A scalar, or the input's shape for <see cref="Reduction.None"/>.</returns>
    /// <exception cref="ArgumentException">Different shapes, the mean of an empty tensor, or tensors on different
    /// devices.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An unknown reduction.</exception>
    public static Tensor<T> MseLoss<T>(Tensor<T> input, Tensor<T> target, Reduction reduction = Reduction.Mean)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        OpArgs.RequireReduction(reduction);
        ShapeMath.RequireShape(nameof(target), target.ShapeSpan, input.ShapeSpan);
        if (reduction == Reduction.Mean && input.Numel == 0)
            throw new ArgumentException("input: the mean squared error of an empty tensor is undefined.", nameof(input));
        RequireSameDevice(nameof(target), input, target);
        // Composed of tensor operations, so it runs on any backend and needs no backward of its own:
        // the Sub and Mul nodes give ∂L/∂x = 2(x − y)·g and ∂L/∂y = −∂L/∂x.
        var difference = input - target;
        var squares = difference * difference;
        return reduction switch
        {
            Reduction.None => squares,
            Reduction.Sum => squares.Sum(),
            _ => squares.Mean(),
        };
    }
}

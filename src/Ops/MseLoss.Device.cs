namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.MseLoss{T}"/>, built from device tensor operations
/// and recorded as one node, as on the CPU.</summary>
public static partial class Functional
{
    private static Tensor<T> MseLossOnDevice<T>(Tensor<T> input, Tensor<T> target, Reduction reduction)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireSameDevice(nameof(target), input, target);
        T inverseCount = T.One / T.CreateChecked(Math.Max(input.Numel, 1));
        Tensor<T> difference, output;
        using (Autograd.NoGrad())
        {
            difference = input.Sub(target);
            var squares = difference.Mul(difference);
            output = reduction switch
            {
                Reduction.None => squares,
                Reduction.Sum => squares.Sum(),
                _ => squares.Sum().MulScalar(inverseCount),
            };
        }
        return Autograd.Record(output, "MseLoss", (grad, needs) =>
        {
            // 2·(x − y)·upstream, the upstream a scalar broadcast over the elements when reduced.
            var upstream = reduction == Reduction.Mean ? grad.MulScalar(inverseCount) : grad;
            var gradInput = difference.MulScalar(T.CreateChecked(2)).Mul(upstream);
            return [needs[0] ? gradInput : null, needs[1] ? gradInput.Neg() : null];
        }, input, target);
    }
}

namespace DeformEngine;

/// <summary>Squared error (x − y)² per element, reduced by <see cref="Reduction"/> (mean by default).
/// Gradients: ∂L/∂x = 2(x − y)·g (÷ numel for the mean), ∂L/∂y = −∂L/∂x.</summary>
public static partial class Functional
{
    public static Tensor<T> MseLoss<T>(Tensor<T> input, Tensor<T> target, Reduction reduction = Reduction.Mean)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        OpArgs.RequireReduction(reduction);
        ShapeMath.RequireShape(nameof(target), target.ShapeSpan, input.ShapeSpan);
        if (reduction == Reduction.Mean && input.Numel == 0)
            throw new ArgumentException("input: the mean squared error of an empty tensor is undefined.", nameof(input));
        if (!input.Device.IsCpu || !target.Device.IsCpu) return MseLossOnDevice(input, target, reduction);
        var x = input.CpuData;
        var y = target.CpuData;
        var difference = new T[x.Length];
        var squares = new T[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            difference[i] = x[i] - y[i];
            squares[i] = difference[i] * difference[i];
        }
        var output = reduction == Reduction.None ? Tensor<T>.Wrap(squares, input.ShapeArray) : ReduceRows(squares, reduction);
        return Autograd.Record(output, "MseLoss", (grad, needs) =>
        {
            var g = grad.CpuData;
            var gradInput = new T[x.Length];
            T two = T.CreateChecked(2);
            for (int i = 0; i < x.Length; i++)
            {
                T upstream = reduction switch
                {
                    Reduction.None => g[i],
                    Reduction.Sum => g[0],
                    _ => g[0] / T.CreateChecked(x.Length),
                };
                gradInput[i] = two * difference[i] * upstream;
            }
            Tensor<T>? gradTarget = null;
            if (needs[1])
            {
                var gt = new T[x.Length];
                for (int i = 0; i < gt.Length; i++) gt[i] = -gradInput[i];
                gradTarget = Tensor<T>.Wrap(gt, input.ShapeArray);
            }
            return [needs[0] ? Tensor<T>.Wrap(gradInput, input.ShapeArray) : null, gradTarget];
        }, input, target);
    }
}

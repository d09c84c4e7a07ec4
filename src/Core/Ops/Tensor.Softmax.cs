namespace DeformEngine;

/// <summary>Softmax and log-softmax along an axis, computed with the maximum subtracted.</summary>
public sealed partial class Tensor<T>
{
    public Tensor<T> Softmax(int axis = -1) => SoftmaxAlong(axis, log: false);

    public Tensor<T> LogSoftmax(int axis = -1) => SoftmaxAlong(axis, log: true);

    private Tensor<T> SoftmaxAlong(int axis, bool log)
    {
        int ax = ShapeMath.NormalizeAxis(axis, _shape.Length, nameof(axis));
        var output = Backend.Softmax(this, ax, log);
        return Autograd.Record(output, log ? "LogSoftmax" : "Softmax", (g, _) =>
        {
            if (log)
            {
                // dx = g − softmax ⊙ Σ g
                var softmax = output.Exp();
                return [g.Sub(softmax.Mul(g.Sum(ax, keepDim: true)))];
            }
            // dx = s ⊙ (g − Σ g⊙s)
            var gs = g.Mul(output);
            return [gs.Sub(output.Mul(gs.Sum(ax, keepDim: true)))];
        }, this);
    }
}

namespace DeformEngine;

/// <summary>Softmax and log-softmax along an axis, computed with the maximum subtracted.</summary>
public sealed partial class Tensor<T>
{
    /// <summary>softmax(x)ᵢ = exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x) along <paramref name="axis"/> (default the last); dx
    /// = s ⊙ (g − Σ g⊙s).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside [−Rank, Rank).</exception>
    public Tensor<T> Softmax(int axis = -1) => SoftmaxAlong(axis, log: false);

    /// <summary>log softmax(x)ᵢ = xᵢ − max x − log Σⱼ exp(xⱼ − max x) along <paramref name="axis"/> (default the last);
    /// dx = g − softmax ⊙ Σ g.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is outside [−Rank, Rank).</exception>
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

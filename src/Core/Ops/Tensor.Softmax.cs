namespace DeformEngine;

/// <summary>Softmax and log-softmax along an axis, computed with the maximum subtracted.</summary>
public sealed partial class Tensor<T>
{
    public Tensor<T> Softmax(int axis = -1)
    {
        var output = SoftmaxCore(axis, log: false, out int ax);
        return Autograd.Record(output, "Softmax", (g, _) =>
        {
            // dx = s ⊙ (g − Σ g⊙s)
            var gs = g.Mul(output);
            return [gs.Sub(output.Mul(gs.Sum(ax, keepDim: true)))];
        }, this);
    }

    public Tensor<T> LogSoftmax(int axis = -1)
    {
        var output = SoftmaxCore(axis, log: true, out int ax);
        return Autograd.Record(output, "LogSoftmax", (g, _) =>
        {
            // dx = g − softmax ⊙ Σ g
            var softmax = output.Exp();
            return [g.Sub(softmax.Mul(g.Sum(ax, keepDim: true)))];
        }, this);
    }

    private Tensor<T> SoftmaxCore(int axis, bool log, out int ax)
    {
        ax = ShapeMath.NormalizeAxis(axis, _shape.Length, nameof(axis));
        if (IsOnDevice) return DeviceSoftmax(ax, log);
        var (outer, size, inner) = Split(ax);
        var src = CpuData;
        var result = new T[Numel];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int baseIndex = o * size * inner + i;
                T max = T.NegativeInfinity;
                for (int s = 0; s < size; s++) max = T.Max(max, src[baseIndex + s * inner]);
                T sum = T.Zero;
                for (int s = 0; s < size; s++) sum += T.Exp(src[baseIndex + s * inner] - max);
                T logSum = T.Log(sum);
                for (int s = 0; s < size; s++)
                {
                    T shifted = src[baseIndex + s * inner] - max - logSum;
                    result[baseIndex + s * inner] = log ? shifted : T.Exp(shifted);
                }
            }
        }
        return Wrap(result, _shape);
    }
}

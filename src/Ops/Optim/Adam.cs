using DeformEngine.NN;

namespace DeformEngine.Optim;

/// <summary>Adam as <c>torch.optim.Adam</c> (weight decay added to the gradient, L2) or, with
/// <c>decoupledWeightDecay</c>, AdamW (p = p·(1 − lr·λ) before the step). Per parameter at step t:
/// m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g², p = p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε).</summary>
public class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<Parameter<T>, State> _states = new(ReferenceEqualityComparer.Instance);

    /// <summary>Adam (or AdamW with <paramref name="decoupledWeightDecay"/>) over parameter groups.</summary>
    /// <param name="groups">The parameter groups.</param>
    /// <param name="learningRate">lr, finite and ≥ 0.</param>
    /// <param name="beta1">β₁ of the first moment, in [0, 1).</param>
    /// <param name="beta2">β₂ of the second moment, in [0, 1).</param>
    /// <param name="eps">ε added to the denominator, ≥ 0.</param>
    /// <param name="weightDecay">λ: added to the gradient as λ·p, or with decoupling p·(1 − lr·λ) before the
    /// step.</param>
    /// <param name="decoupledWeightDecay">AdamW's decoupled decay instead of L2.</param>
    /// <exception cref="ArgumentException">No parameters, or a parameter twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of its range.</exception>
    public Adam(IEnumerable<ParameterGroup<T>> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false)
        : base(groups, learningRate, weightDecay)
    {
        if (!(beta1 >= 0 && beta1 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1: expected a value in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1))
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2: expected a value in [0, 1).");
        if (!(eps >= 0))
            throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps: expected a value ≥ 0.");
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        DecoupledWeightDecay = decoupledWeightDecay;
    }

    /// <summary>Adam (or AdamW with <paramref name="decoupledWeightDecay"/>) over one group holding
    /// <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The parameters, such as <see cref="Module{T}.Parameters"/>.</param>
    /// <param name="learningRate">lr, finite and ≥ 0.</param>
    /// <param name="beta1">β₁ of the first moment, in [0, 1).</param>
    /// <param name="beta2">β₂ of the second moment, in [0, 1).</param>
    /// <param name="eps">ε added to the denominator, ≥ 0.</param>
    /// <param name="weightDecay">λ: added to the gradient as λ·p, or with decoupling p·(1 − lr·λ) before the
    /// step.</param>
    /// <param name="decoupledWeightDecay">AdamW's decoupled decay instead of L2.</param>
    /// <exception cref="ArgumentException">No parameters, or a parameter twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of its range.</exception>
    public Adam(IEnumerable<Parameter<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false)
        : this(SingleGroup(parameters), learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay)
    {
    }

    /// <summary>β₁, the decay of the first moment m.</summary>
    public double Beta1 { get; }
    /// <summary>β₂, the decay of the second moment v.</summary>
    public double Beta2 { get; }
    /// <summary>ε added to the denominator.</summary>
    public double Eps { get; }
    /// <summary>True for AdamW's decoupled weight decay, false for L2 added to the gradient.</summary>
    public bool DecoupledWeightDecay { get; }

    private sealed record State(int Step, Tensor<T> FirstMoment, Tensor<T> SecondMoment);

    /// <summary>NOTE: √v/√(1 − β₂ᵗ) is computed as √v·(1/√(1 − β₂ᵗ)), a rounding-level difference from
    /// PyTorch's division.</summary>
    protected override Tensor<T> Update(Parameter<T> parameter, Tensor<T> grad, double learningRate, double weightDecay)
    {
        var p = parameter.Value;
        var state = _states.TryGetValue(parameter, out var previous)
            ? previous with { FirstMoment = Beside(parameter, previous.FirstMoment), SecondMoment = Beside(parameter, previous.SecondMoment) }
            : new State(0, Tensor<T>.ZerosOn(p.Device, p.ShapeArray), Tensor<T>.ZerosOn(p.Device, p.ShapeArray));
        int step = state.Step + 1;
        double correction1 = 1 - Math.Pow(Beta1, step);
        double correction2 = 1 - Math.Pow(Beta2, step);
        T beta1 = T.CreateChecked(Beta1), beta2 = T.CreateChecked(Beta2);
        T stepSize = T.CreateChecked(learningRate / correction1);
        T inverseSqrtCorrection2 = T.One / T.CreateChecked(Math.Sqrt(correction2));
        T eps = T.CreateChecked(Eps), decay = T.CreateChecked(weightDecay);
        T shrink = T.CreateChecked(1 - learningRate * weightDecay);
        var g = grad;
        if (DecoupledWeightDecay) p *= shrink;
        else g = grad + p * decay;
        var m = state.FirstMoment * beta1 + g * (T.One - beta1);
        var v = state.SecondMoment * beta2 + g * (T.One - beta2) * g;
        _states[parameter] = new State(step, m, v);
        return p - m * stepSize / (v.Sqrt() * inverseSqrtCorrection2 + eps);
    }
}

/// <summary>AdamW: Adam with decoupled weight decay (default λ = 0.01), as <c>torch.optim.AdamW</c>.</summary>
public sealed class AdamW<T> : Adam<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>AdamW over parameter groups.</summary>
    /// <param name="groups">The parameter groups.</param>
    /// <param name="learningRate">lr, finite and ≥ 0.</param>
    /// <param name="beta1">β₁ of the first moment, in [0, 1).</param>
    /// <param name="beta2">β₂ of the second moment, in [0, 1).</param>
    /// <param name="eps">ε added to the denominator, ≥ 0.</param>
    /// <param name="weightDecay">λ: p ← p·(1 − lr·λ) before each step.</param>
    /// <exception cref="ArgumentException">No parameters, or a parameter twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of its range.</exception>
    public AdamW(IEnumerable<ParameterGroup<T>> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01)
        : base(groups, learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay: true)
    {
    }

    /// <summary>AdamW over one group holding <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The parameters, such as <see cref="Module{T}.Parameters"/>.</param>
    /// <param name="learningRate">lr, finite and ≥ 0.</param>
    /// <param name="beta1">β₁ of the first moment, in [0, 1).</param>
    /// <param name="beta2">β₂ of the second moment, in [0, 1).</param>
    /// <param name="eps">ε added to the denominator, ≥ 0.</param>
    /// <param name="weightDecay">λ: p ← p·(1 − lr·λ) before each step.</param>
    /// <exception cref="ArgumentException">No parameters, or a parameter twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of its range.</exception>
    public AdamW(IEnumerable<Parameter<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01)
        : base(parameters, learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay: true)
    {
    }
}

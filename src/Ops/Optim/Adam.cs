using DeformEngine.NN;

namespace DeformEngine.Optim;

/// <summary>Adam as <c>torch.optim.Adam</c> (weight decay added to the gradient, L2) or, with
/// <c>decoupledWeightDecay</c>, AdamW (p = p·(1 − lr·λ) before the step). Per parameter at step t:
/// m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g², p = p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε).</summary>
public partial class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<Parameter<T>, State> _states = new(ReferenceEqualityComparer.Instance);

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

    public Adam(IEnumerable<Parameter<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false)
        : this(SingleGroup(parameters), learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay)
    {
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public bool DecoupledWeightDecay { get; }

    private sealed class State(int length)
    {
        public int Step;
        public readonly T[] FirstMoment = new T[length];
        public readonly T[] SecondMoment = new T[length];
    }

    protected override void Update(Parameter<T> parameter, ReadOnlySpan<T> grad, double learningRate, double weightDecay)
    {
        var p = parameter.AsSpan();
        if (_deviceStates.Remove(parameter, out var moved)) _states[parameter] = moved.ToHost();
        if (!_states.TryGetValue(parameter, out var state))
            _states.Add(parameter, state = new State(p.Length));
        state.Step++;
        double correction1 = 1 - Math.Pow(Beta1, state.Step);
        double correction2 = 1 - Math.Pow(Beta2, state.Step);
        T beta1 = T.CreateChecked(Beta1), beta2 = T.CreateChecked(Beta2);
        T stepSize = T.CreateChecked(learningRate / correction1);
        T sqrtCorrection2 = T.CreateChecked(Math.Sqrt(correction2));
        T eps = T.CreateChecked(Eps), decay = T.CreateChecked(weightDecay);
        T shrink = T.CreateChecked(1 - learningRate * weightDecay);
        var m = state.FirstMoment;
        var v = state.SecondMoment;
        for (int i = 0; i < p.Length; i++)
        {
            T g = grad[i];
            if (DecoupledWeightDecay) p[i] *= shrink;
            else g += decay * p[i];
            m[i] = beta1 * m[i] + (T.One - beta1) * g;
            v[i] = beta2 * v[i] + (T.One - beta2) * g * g;
            p[i] -= stepSize * m[i] / (T.Sqrt(v[i]) / sqrtCorrection2 + eps);
        }
    }
}

/// <summary>AdamW: Adam with decoupled weight decay (default λ = 0.01), as <c>torch.optim.AdamW</c>.</summary>
public sealed class AdamW<T> : Adam<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public AdamW(IEnumerable<ParameterGroup<T>> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01)
        : base(groups, learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay: true)
    {
    }

    public AdamW(IEnumerable<Parameter<T>> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01)
        : base(parameters, learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay: true)
    {
    }
}

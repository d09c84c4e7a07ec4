using DeformEngine.NN;

namespace DeformEngine.Optim;

/// <summary>Stochastic gradient descent as <c>torch.optim.SGD</c>:
/// g = ∇ + λ·p; with momentum μ, b = g on the first step, then b = μ·b + (1 − dampening)·g, and
/// g = g + μ·b (Nesterov) or g = b; finally p = p − lr·g.</summary>
public sealed class Sgd<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<Parameter<T>, Tensor<T>> _momentumBuffers = new(ReferenceEqualityComparer.Instance);

    /// <summary>SGD over parameter groups.</summary>
    /// <param name="groups">The parameter groups.</param>
    /// <param name="learningRate">lr, finite and ≥ 0.</param>
    /// <param name="momentum">μ, finite and ≥ 0; 0 for plain SGD.</param>
    /// <param name="dampening">In [0, 1]: the buffer takes (1 − dampening)·g.</param>
    /// <param name="nesterov">Nesterov momentum (needs μ &gt; 0 and dampening 0).</param>
    /// <param name="weightDecay">λ, added to the gradient as λ·p.</param>
    /// <exception cref="ArgumentException">No parameters, a parameter twice, or Nesterov without momentum or with
    /// dampening.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of its range.</exception>
    public Sgd(IEnumerable<ParameterGroup<T>> groups, double learningRate, double momentum = 0, double dampening = 0,
        bool nesterov = false, double weightDecay = 0)
        : base(groups, learningRate, weightDecay)
    {
        if (!(momentum >= 0 && double.IsFinite(momentum)))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum: expected a finite value ≥ 0.");
        if (!(dampening >= 0 && dampening <= 1))
            throw new ArgumentOutOfRangeException(nameof(dampening), dampening, "dampening: expected a value in [0, 1].");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"nesterov: needs momentum > 0 and dampening = 0, got momentum {momentum} and dampening {dampening}.", nameof(nesterov));
        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
    }

    /// <summary>SGD over one group holding <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The parameters, such as <see cref="Module{T}.Parameters"/>.</param>
    /// <param name="learningRate">lr, finite and ≥ 0.</param>
    /// <param name="momentum">μ, finite and ≥ 0; 0 for plain SGD.</param>
    /// <param name="dampening">In [0, 1]: the buffer takes (1 − dampening)·g.</param>
    /// <param name="nesterov">Nesterov momentum (needs μ &gt; 0 and dampening 0).</param>
    /// <param name="weightDecay">λ, added to the gradient as λ·p.</param>
    /// <exception cref="ArgumentException">No parameters, a parameter twice, or Nesterov without momentum or with
    /// dampening.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting out of its range.</exception>
    public Sgd(IEnumerable<Parameter<T>> parameters, double learningRate, double momentum = 0, double dampening = 0,
        bool nesterov = false, double weightDecay = 0)
        : this(SingleGroup(parameters), learningRate, momentum, dampening, nesterov, weightDecay)
    {
    }

    /// <summary>μ; 0 for plain SGD.</summary>
    public double Momentum { get; }
    /// <summary>The share of g withheld from the momentum buffer, in [0, 1].</summary>
    public double Dampening { get; }
    /// <summary>True for Nesterov momentum: g + μ·b instead of b.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    protected override Tensor<T> Update(Parameter<T> parameter, Tensor<T> grad, double learningRate, double weightDecay)
    {
        var p = parameter.Value;
        T lr = T.CreateChecked(learningRate), decay = T.CreateChecked(weightDecay);
        T mu = T.CreateChecked(Momentum), undamped = T.One - T.CreateChecked(Dampening);
        var g = grad + p * decay;
        if (Momentum != 0)
        {
            // NOTE: the first step stores g undamped, as PyTorch does.
            var buffer = _momentumBuffers.TryGetValue(parameter, out var previous)
                ? Beside(parameter, previous) * mu + g * undamped
                : g;
            _momentumBuffers[parameter] = buffer;
            g = Nesterov ? g + buffer * mu : buffer;
        }
        return p - g * lr;
    }
}

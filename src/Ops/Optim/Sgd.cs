using DeformEngine.NN;

namespace DeformEngine.Optim;

/// <summary>Stochastic gradient descent as <c>torch.optim.SGD</c>:
/// g = ∇ + λ·p; with momentum μ, b = g on the first step, then b = μ·b + (1 − dampening)·g, and
/// g = g + μ·b (Nesterov) or g = b; finally p = p − lr·g.</summary>
public sealed class Sgd<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<Parameter<T>, Tensor<T>> _momentumBuffers = new(ReferenceEqualityComparer.Instance);

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

    public Sgd(IEnumerable<Parameter<T>> parameters, double learningRate, double momentum = 0, double dampening = 0,
        bool nesterov = false, double weightDecay = 0)
        : this(SingleGroup(parameters), learningRate, momentum, dampening, nesterov, weightDecay)
    {
    }

    public double Momentum { get; }
    public double Dampening { get; }
    public bool Nesterov { get; }

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

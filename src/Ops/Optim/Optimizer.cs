using DeformEngine.NN;

namespace DeformEngine.Optim;

/// <summary>What a learning-rate schedule drives: an optimizer's base learning rate.</summary>
public interface IHasLearningRate
{
    /// <summary>The base learning rate, finite and ≥ 0.</summary>
    double LearningRate { get; set; }
}

/// <summary>Base of the optimizers: parameter groups, the base learning rate a schedule changes,
/// and the loop that hands each parameter with a gradient to <see cref="Update"/> with its group's
/// learning rate and weight decay. An update is written once, in tensor operations (unrecorded), so it
/// runs on whatever backend holds the parameter; the parameter is then overwritten in place, and the
/// optimizer's state lives with it (<see cref="Beside"/>).</summary>
public abstract class Optimizer<T> : IHasLearningRate where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Checks and keeps <paramref name="groups"/> and the optimizer-wide settings.</summary>
    /// <param name="groups">The parameter groups; together they hold at least one parameter, each parameter
    /// once.</param>
    /// <param name="learningRate">The base learning rate, finite and ≥ 0.</param>
    /// <param name="weightDecay">λ for every group that sets none of its own, finite and ≥ 0.</param>
    /// <exception cref="ArgumentException">No parameters, or a parameter in two groups (or twice in one).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite learning rate or weight
    /// decay.</exception>
    protected Optimizer(IEnumerable<ParameterGroup<T>> groups, double learningRate, double weightDecay)
    {
        ArgumentNullException.ThrowIfNull(groups);
        Groups = groups.ToArray();
        if (Groups.Count == 0 || Groups.All(g => g.Parameters.Count == 0))
            throw new ArgumentException("groups: the optimizer got no parameters.", nameof(groups));
        var seen = new HashSet<Parameter<T>>(ReferenceEqualityComparer.Instance);
        foreach (var parameter in Groups.SelectMany(g => g.Parameters))
            if (!seen.Add(parameter))
                throw new ArgumentException($"groups: a parameter of shape {ShapeMath.Format(parameter.Shape)} appears in more than one group (or twice in one).", nameof(groups));
        LearningRate = learningRate;
        WeightDecay = weightDecay >= 0 && double.IsFinite(weightDecay)
            ? weightDecay
            : throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weightDecay: expected a finite value ≥ 0.");
    }

    /// <summary>The parameter groups, in the order given.</summary>
    public IReadOnlyList<ParameterGroup<T>> Groups { get; }

    /// <summary>The base learning rate; a group steps with this times its multiplier.</summary>
    public double LearningRate
    {
        get;
        set => field = value >= 0 && double.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "LearningRate: expected a finite value ≥ 0.");
    }

    /// <summary>λ, the weight decay of every group that sets none of its own.</summary>
    public double WeightDecay { get; }

    /// <summary>Number of <see cref="Step"/> calls so far.</summary>
    public int StepCount { get; private set; }

    /// <summary>Drops the accumulated gradient of every parameter of every group.</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in Groups.SelectMany(g => g.Parameters)) parameter.ZeroGrad();
    }

    /// <summary>Updates every parameter that has a gradient; those without one are left alone.</summary>
    public void Step()
    {
        StepCount++;
        foreach (var group in Groups)
        {
            double learningRate = LearningRate * group.LrMultiplier;
            double weightDecay = group.WeightDecay ?? WeightDecay;
            foreach (var parameter in group.Parameters)
                if (parameter.Grad is { } grad) Apply(parameter, grad, learningRate, weightDecay);
        }
    }

    /// <summary>The new value of <paramref name="parameter"/> from its gradient (same device); state
    /// tensors the optimizer keeps are updated by reassigning them.</summary>
    protected abstract Tensor<T> Update(Parameter<T> parameter, Tensor<T> grad, double learningRate, double weightDecay);

    /// <summary><paramref name="state"/> on the parameter's device: a parameter moved by
    /// <see cref="Module{T}.To"/> takes its optimizer state along on its next step.</summary>
    protected static Tensor<T> Beside(Parameter<T> parameter, Tensor<T> state) =>
        ReferenceEquals(state.Device, parameter.Value.Device) ? state : state.To(parameter.Value.Device).Detach();

    private void Apply(Parameter<T> parameter, Tensor<T> grad, double learningRate, double weightDecay)
    {
        var device = parameter.Value.Device;
        if (!ReferenceEquals(grad.Device, device))
            throw new InvalidOperationException(
                $"{GetType().Name}: a parameter of shape {ShapeMath.Format(parameter.Shape)} lives on '{device.Name}' but its gradient on '{grad.Device.Name}'.");
        using (Autograd.NoGrad())
            parameter.Value.Assign(Update(parameter, grad.Detach(), learningRate, weightDecay));
    }

    internal static ParameterGroup<T>[] SingleGroup(IEnumerable<Parameter<T>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return [new ParameterGroup<T>(parameters)];
    }
}

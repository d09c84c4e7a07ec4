using DeformEngine.NN;

namespace DeformEngine.Optim;

/// <summary>Parameters that share optimizer settings. The group's learning rate is the optimizer's
/// (scheduled) learning rate times <see cref="LrMultiplier"/>, applied to the update itself, so a
/// 0.1 multiplier makes the step exactly 0.1× (for SGD and Adam alike, whose steps are linear in
/// the learning rate). <see cref="WeightDecay"/>, when set, overrides the optimizer's.</summary>
public sealed class ParameterGroup<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A group of <paramref name="parameters"/> with its own settings.</summary>
    /// <param name="parameters">The parameters (copied into the group; none null).</param>
    /// <param name="lrMultiplier">Factor on the optimizer's learning rate, finite and ≥ 0.</param>
    /// <param name="weightDecay">λ of this group; null for the optimizer's.</param>
    /// <param name="name">A label for logs; null for "".</param>
    /// <exception cref="ArgumentException"><paramref name="parameters"/> contains null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite multiplier or weight decay.</exception>
    public ParameterGroup(IEnumerable<Parameter<T>> parameters, double lrMultiplier = 1.0, double? weightDecay = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        if (Parameters.Any(p => p is null))
            throw new ArgumentException("parameters: contains a null parameter.", nameof(parameters));
        LrMultiplier = lrMultiplier;
        WeightDecay = weightDecay;
        Name = name ?? "";
    }

    /// <summary>The group's parameters.</summary>
    public IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>A label for logs ("" when none was given).</summary>
    public string Name { get; }

    /// <summary>Factor on the optimizer's learning rate for this group (≥ 0).</summary>
    public double LrMultiplier
    {
        get;
        set => field = value >= 0 && double.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "LrMultiplier: expected a finite value ≥ 0.");
    }

    /// <summary>Weight decay of this group; null means the optimizer's.</summary>
    public double? WeightDecay
    {
        get;
        set => field = value is null || (value >= 0 && double.IsFinite(value.Value))
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "WeightDecay: expected a finite value ≥ 0.");
    }

    /// <summary>Two groups for a model with deformable layers: every parameter except the offset
    /// (and mask) branches of its <see cref="DeformConv2d{T}"/> layers at multiplier 1, and those
    /// branches at <paramref name="offsetLrMultiplier"/> (0.1 in the DCN papers' setups).</summary>
    public static ParameterGroup<T>[] SplitOffsets(Module<T> model, double offsetLrMultiplier = 0.1)
    {
        ArgumentNullException.ThrowIfNull(model);
        var offsetParameters = model.Modules().OfType<DeformConv2d<T>>().SelectMany(m => m.OffsetParameters)
            .ToHashSet(ReferenceEqualityComparer.Instance);
        var main = model.Parameters().Where(p => !offsetParameters.Contains(p));
        var offsets = model.Parameters().Where(p => offsetParameters.Contains(p));
        return [new ParameterGroup<T>(main, name: "main"), new ParameterGroup<T>(offsets, offsetLrMultiplier, name: "offsets")];
    }
}

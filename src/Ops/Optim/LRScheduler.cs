namespace DeformEngine.Optim;

/// <summary>Sets an optimizer's base learning rate from a closed-form schedule of the epoch (or
/// iteration) count; call <see cref="Step"/> once per epoch, after the optimizer's steps. Group
/// multipliers apply on top of the scheduled rate.</summary>
public abstract class LRScheduler
{
    private readonly IHasLearningRate _optimizer;

    /// <summary>A schedule for <paramref name="optimizer"/>, starting from its current learning rate.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    protected LRScheduler(IHasLearningRate optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        _optimizer = optimizer;
        BaseLearningRate = optimizer.LearningRate;
    }

    /// <summary>lr₀: the optimizer's learning rate when the schedule was made.</summary>
    public double BaseLearningRate { get; }

    /// <summary>Number of <see cref="Step"/> calls so far.</summary>
    public int Epoch { get; private set; }

    /// <summary>The optimizer's learning rate now.</summary>
    public double CurrentLearningRate => _optimizer.LearningRate;

    /// <summary>Advances one epoch and sets the optimizer's learning rate to <see cref="LearningRateAt"/>(
    /// <see cref="Epoch"/>).</summary>
    public void Step()
    {
        Epoch++;
        _optimizer.LearningRate = LearningRateAt(Epoch);
    }

    /// <summary>The learning rate of the schedule's closed form after <paramref name="epoch"/> steps.</summary>
    public abstract double LearningRateAt(int epoch);
}

/// <summary>lr = ηmin + (lr₀ − ηmin)·(1 + cos(π·epoch/tMax))/2, PyTorch's closed form of
/// CosineAnnealingLR (past tMax it rises again, as there).</summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    /// <summary>A cosine schedule from the optimizer's current learning rate down to <paramref name="etaMin"/> over
    /// <paramref name="tMax"/> epochs.</summary>
    /// <param name="optimizer">The optimizer whose learning rate is set.</param>
    /// <param name="tMax">Epochs of the half cosine, positive.</param>
    /// <param name="etaMin">The lowest learning rate, ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive <paramref name="tMax"/> or negative
    /// <paramref name="etaMin"/>.</exception>
    public CosineAnnealingLR(IHasLearningRate optimizer, int tMax, double etaMin = 0) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tMax);
        if (!(etaMin >= 0)) throw new ArgumentOutOfRangeException(nameof(etaMin), etaMin, "etaMin: expected a value ≥ 0.");
        TMax = tMax;
        EtaMin = etaMin;
    }

    /// <summary>Epochs of the half cosine.</summary>
    public int TMax { get; }
    /// <summary>ηmin, the learning rate reached at <see cref="TMax"/>.</summary>
    public double EtaMin { get; }

    /// <summary>ηmin + (lr₀ − ηmin)·(1 + cos(π·epoch/tMax))/2.</summary>
    public override double LearningRateAt(int epoch) =>
        EtaMin + (BaseLearningRate - EtaMin) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2;
}

/// <summary>lr = lr₀·γ^⌊epoch/stepSize⌋, as StepLR.</summary>
public sealed class StepLR : LRScheduler
{
    /// <summary>A schedule that multiplies the optimizer's current learning rate by <paramref name="gamma"/> every
    /// <paramref name="stepSize"/> epochs.</summary>
    /// <param name="optimizer">The optimizer whose learning rate is set.</param>
    /// <param name="stepSize">Epochs between decays, positive.</param>
    /// <param name="gamma">The decay factor, ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive <paramref name="stepSize"/> or negative
    /// <paramref name="gamma"/>.</exception>
    public StepLR(IHasLearningRate optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepSize);
        if (!(gamma >= 0)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma: expected a value ≥ 0.");
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>Epochs between decays.</summary>
    public int StepSize { get; }
    /// <summary>γ, the factor applied every <see cref="StepSize"/> epochs.</summary>
    public double Gamma { get; }

    /// <summary>lr₀·γ^⌊epoch/stepSize⌋.</summary>
    public override double LearningRateAt(int epoch) => BaseLearningRate * Math.Pow(Gamma, epoch / StepSize);
}

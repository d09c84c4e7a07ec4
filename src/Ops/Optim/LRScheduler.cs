namespace DeformEngine.Optim;

/// <summary>Sets an optimizer's base learning rate from a closed-form schedule of the epoch (or
/// iteration) count; call <see cref="Step"/> once per epoch, after the optimizer's steps. Group
/// multipliers apply on top of the scheduled rate.</summary>
public abstract class LRScheduler
{
    private readonly IHasLearningRate _optimizer;

    protected LRScheduler(IHasLearningRate optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        _optimizer = optimizer;
        BaseLearningRate = optimizer.LearningRate;
    }

    public double BaseLearningRate { get; }

    /// <summary>Number of <see cref="Step"/> calls so far.</summary>
    public int Epoch { get; private set; }

    public double CurrentLearningRate => _optimizer.LearningRate;

    public void Step()
    {
        Epoch++;
        _optimizer.LearningRate = LearningRateAt(Epoch);
    }

    public abstract double LearningRateAt(int epoch);
}

/// <summary>lr = ηmin + (lr₀ − ηmin)·(1 + cos(π·epoch/tMax))/2, PyTorch's closed form of
/// CosineAnnealingLR (past tMax it rises again, as there).</summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    public CosineAnnealingLR(IHasLearningRate optimizer, int tMax, double etaMin = 0) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tMax);
        if (!(etaMin >= 0)) throw new ArgumentOutOfRangeException(nameof(etaMin), etaMin, "etaMin: expected a value ≥ 0.");
        TMax = tMax;
        EtaMin = etaMin;
    }

    public int TMax { get; }
    public double EtaMin { get; }

    public override double LearningRateAt(int epoch) =>
        EtaMin + (BaseLearningRate - EtaMin) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2;
}

/// <summary>lr = lr₀·γ^⌊epoch/stepSize⌋, as StepLR.</summary>
public sealed class StepLR : LRScheduler
{
    public StepLR(IHasLearningRate optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepSize);
        if (!(gamma >= 0)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma: expected a value ≥ 0.");
        StepSize = stepSize;
        Gamma = gamma;
    }

    public int StepSize { get; }
    public double Gamma { get; }

    public override double LearningRateAt(int epoch) => BaseLearningRate * Math.Pow(Gamma, epoch / StepSize);
}

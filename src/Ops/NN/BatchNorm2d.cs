namespace DeformEngine.NN;

/// <summary>Batch normalisation over the channels of [N, C, H, W] with PyTorch's state:
/// <c>weight</c> (γ, init 1) and <c>bias</c> (β, init 0) when affine, buffers <c>running_mean</c>
/// (0), <c>running_var</c> (1) and <c>num_batches_tracked</c> when tracking. Training normalises
/// with the batch statistics and updates the running ones; evaluation uses the running ones.</summary>
public sealed class BatchNorm2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A batch normalisation of <paramref name="numFeatures"/> channels with γ = 1, β = 0, running mean 0 and
    /// running variance 1.</summary>
    /// <param name="numFeatures">C, the channels of the [N, C, H, W] input.</param>
    /// <param name="eps">ε added to the variance, finite and ≥ 0.</param>
    /// <param name="momentum">m in running ← (1 − m)·running + m·batch, in [0, 1].</param>
    /// <param name="affine">Learn γ (<c>weight</c>) and β (<c>bias</c>).</param>
    /// <param name="trackRunningStats">Keep the running statistics (and <c>num_batches_tracked</c>) as buffers; without
    /// them both modes use the batch statistics.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive <paramref name="numFeatures"/>, or
    /// <paramref name="eps"/> or <paramref name="momentum"/> out of range.</exception>
    public BatchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool trackRunningStats = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        OpArgs.RequireBatchNormConstants(eps, momentum);
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor<T>.Ones(numFeatures));
            Bias = RegisterParameter("bias", Tensor<T>.Zeros(numFeatures));
        }
        if (trackRunningStats)
        {
            RegisterBuffer("running_mean", Tensor<T>.Zeros(numFeatures));
            RegisterBuffer("running_var", Tensor<T>.Ones(numFeatures));
            RegisterBuffer("num_batches_tracked", Tensor<T>.Zeros());
        }
    }

    /// <summary>C, the channels normalised.</summary>
    public int NumFeatures { get; }
    /// <summary>ε added to the variance.</summary>
    public double Eps { get; }
    /// <summary>m in running ← (1 − m)·running + m·batch.</summary>
    public double Momentum { get; }
    /// <summary>γ [C] (<c>weight</c>), or null when not affine.</summary>
    public Parameter<T>? Weight { get; }
    /// <summary>β [C] (<c>bias</c>), or null when not affine.</summary>
    public Parameter<T>? Bias { get; }
    // Read through the buffer list, which Module.To replaces with the tensors on the new device.
    /// <summary>The running mean [C] (<c>running_mean</c>), or null when not tracking.</summary>
    public Tensor<T>? RunningMean => FindBuffer("running_mean");
    /// <summary>The running unbiased variance [C] (<c>running_var</c>), or null when not tracking.</summary>
    public Tensor<T>? RunningVar => FindBuffer("running_var");
    /// <summary>The number of training steps taken, a scalar (<c>num_batches_tracked</c>), or null when not
    /// tracking.</summary>
    public Tensor<T>? NumBatchesTracked => FindBuffer("num_batches_tracked");

    /// <summary>[N, C, H, W] → [N, C, H, W]; in training also updates the running statistics and counts the
    /// step.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        // Without running statistics PyTorch normalises with the batch statistics in both modes.
        bool useBatchStatistics = Training || RunningMean is null;
        if (Training && NumBatchesTracked is { } tracked) tracked.Assign(tracked.Detach() + T.One);
        return Functional.BatchNorm2d(input, RunningMean, RunningVar, Weight?.Value, Bias?.Value,
            training: useBatchStatistics, momentum: Momentum, eps: Eps);
    }
}

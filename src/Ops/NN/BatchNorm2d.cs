namespace DeformEngine.NN;

/// <summary>Batch normalisation over the channels of [N, C, H, W] with PyTorch's state:
/// <c>weight</c> (γ, init 1) and <c>bias</c> (β, init 0) when affine, buffers <c>running_mean</c>
/// (0), <c>running_var</c> (1) and <c>num_batches_tracked</c> when tracking. Training normalises
/// with the batch statistics and updates the running ones; evaluation uses the running ones.</summary>
public sealed class BatchNorm2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
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

    public int NumFeatures { get; }
    public double Eps { get; }
    public double Momentum { get; }
    public Parameter<T>? Weight { get; }
    public Parameter<T>? Bias { get; }
    // Read through the buffer list, which Module.To replaces with the tensors on the new device.
    public Tensor<T>? RunningMean => FindBuffer("running_mean");
    public Tensor<T>? RunningVar => FindBuffer("running_var");
    public Tensor<T>? NumBatchesTracked => FindBuffer("num_batches_tracked");

    public override Tensor<T> Forward(Tensor<T> input)
    {
        // Without running statistics PyTorch normalises with the batch statistics in both modes.
        bool useBatchStatistics = Training || RunningMean is null;
        if (Training && NumBatchesTracked is { } tracked) tracked.Assign(tracked.Detach() + T.One);
        return Functional.BatchNorm2d(input, RunningMean, RunningVar, Weight?.Value, Bias?.Value,
            training: useBatchStatistics, momentum: Momentum, eps: Eps);
    }
}

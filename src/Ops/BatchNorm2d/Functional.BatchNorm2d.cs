namespace DeformEngine;

/// <summary>Batch normalisation of [N, C, H, W] per channel c, over M = N·H·W values:
/// y = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε).
/// Training: μ, σ² are the batch mean and biased variance; the running statistics (when given)
/// become (1 − m)·running + m·batch, the variance entering them unbiased (σ²·M/(M − 1)), as PyTorch.
/// Evaluation: μ, σ² are the running statistics.
/// Gradients (training): ∂L/∂x = (1/(M·√(σ²+ε)))·(M·g − Σg − x̂·Σ(g·x̂)) with g = γ·∂L/∂y;
/// (evaluation): ∂L/∂x = γ·∂L/∂y/√(σ²+ε); ∂L/∂γ = Σ ∂L/∂y·x̂; ∂L/∂β = Σ ∂L/∂y.</summary>
public static partial class Functional
{
    /// <summary>y = γ·(x − μ)/√(σ² + ε) + β per channel: batch statistics in training (updating the running ones in
    /// place), the running statistics in evaluation.</summary>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="runningMean">[C] running mean, updated in place in training; null (with
    /// <paramref name="runningVar"/>) for none, training only.</param>
    /// <param name="runningVar">[C] running (unbiased) variance, updated in place in training; null together with
    /// <paramref name="runningMean"/>.</param>
    /// <param name="weight">[C] scale γ, or null for 1.</param>
    /// <param name="bias">[C] shift β, or null for 0.</param>
    /// <param name="training">Normalise with the batch statistics (true) or the running ones (false).</param>
    /// <param name="momentum">m in running ← (1 − m)·running + m·batch.</param>
    /// <param name="eps">ε added to the variance.</param>
    /// <returns>[N, C, H, W].</returns>
    /// <exception cref="ArgumentException">A vector is not [C], only one running statistic is given, evaluation without
    /// running statistics, training with one value per channel, or tensors on different devices.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="eps"/> or <paramref name="momentum"/> is out of
    /// range.</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
    public static Tensor<T> BatchNorm2d<T>(Tensor<T> input, Tensor<T>? runningMean, Tensor<T>? runningVar,
        Tensor<T>? weight = null, Tensor<T>? bias = null, bool training = false, double momentum = 0.1, double eps = 1e-5)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 4, "[N, C, H, W]");
        var shape = input.ShapeArray;
        int n = shape[0], channels = shape[1], plane = shape[2] * shape[3];
        int count = n * plane;
        OpArgs.RequireChannelVector(nameof(runningMean), runningMean, channels);
        OpArgs.RequireChannelVector(nameof(runningVar), runningVar, channels);
        OpArgs.RequireChannelVector(nameof(weight), weight, channels);
        OpArgs.RequireChannelVector(nameof(bias), bias, channels);
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException("runningVar: runningMean and runningVar must be given together.", nameof(runningVar));
        OpArgs.RequireBatchNormConstants(eps, momentum);
        if (!training && runningMean is null)
            throw new ArgumentException("runningMean: evaluation mode normalises with the running statistics, which are null.", nameof(runningMean));
        // As PyTorch: an empty batch normalises nothing and leaves the running statistics alone.
        if (training && count == 1)
            throw new ArgumentException(
                $"input: training needs more than one value per channel to compute a variance, got shape {ShapeMath.Format(shape)}.", nameof(input));
        RequireSameDevice(nameof(runningMean), input, runningMean);
        RequireSameDevice(nameof(runningVar), input, runningVar);
        RequireSameDevice(nameof(weight), input, weight);
        RequireSameDevice(nameof(bias), input, bias);
        var parameters = new BatchNorm2dParams(n, channels, plane, training, momentum, eps);
        var backend = OperatorBackends.For<IBatchNorm2dBackend>(input.Device, "BatchNorm2d");
        var (output, saved) = backend.BatchNorm2d(parameters, input, runningMean, runningVar, weight, bias);
        return Autograd.Record(output, "BatchNorm2d", (grad, needs) => backend.BatchNorm2dBackward(parameters, grad, weight, saved, needs),
            input, weight, bias);
    }
}

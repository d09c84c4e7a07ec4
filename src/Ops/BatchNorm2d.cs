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
        if (!input.Device.IsCpu) return BatchNorm2dOnDevice(input, runningMean, runningVar, weight, bias, training, momentum, eps);

        var mean = new T[channels];
        var variance = new T[channels];
        var invStd = new T[channels];
        var src = input.CpuData;
        T epsilon = T.CreateChecked(eps);
        if (training && count > 0)
        {
            BatchStatistics(src, n, channels, plane, mean, variance);
        }
        else if (training)
        {
            Array.Fill(variance, T.One);
        }
        else
        {
            runningMean!.CpuData.CopyTo(mean, 0);
            runningVar!.CpuData.CopyTo(variance, 0);
        }
        for (int c = 0; c < channels; c++) invStd[c] = T.One / T.Sqrt(variance[c] + epsilon);

        var normalized = new T[src.Length];
        var result = new T[src.Length];
        var gamma = weight?.CpuData;
        var beta = bias?.CpuData;
        for (int b = 0; b < n; b++)
            for (int c = 0; c < channels; c++)
            {
                int offset = (b * channels + c) * plane;
                T scale = gamma is null ? T.One : gamma[c];
                T shift = beta is null ? T.Zero : beta[c];
                for (int k = offset; k < offset + plane; k++)
                {
                    normalized[k] = (src[k] - mean[c]) * invStd[c];
                    result[k] = scale * normalized[k] + shift;
                }
            }

        if (training && count > 0 && runningMean is not null)
            UpdateRunningStatistics(runningMean, runningVar!, mean, variance, T.CreateChecked(momentum), count);

        var output = Tensor<T>.Wrap(result, shape);
        return Autograd.Record(output, "BatchNorm2d", (grad, needs) =>
        {
            var g = grad.CpuData;
            var sumGrad = new T[channels];
            var sumGradNormalized = new T[channels];
            for (int b = 0; b < n; b++)
                for (int c = 0; c < channels; c++)
                {
                    int offset = (b * channels + c) * plane;
                    for (int k = offset; k < offset + plane; k++)
                    {
                        sumGrad[c] += g[k];
                        sumGradNormalized[c] += g[k] * normalized[k];
                    }
                }
            Tensor<T>? gradInput = null;
            if (needs[0])
            {
                var gi = new T[src.Length];
                T m = T.CreateChecked(count);
                for (int b = 0; b < n; b++)
                    for (int c = 0; c < channels; c++)
                    {
                        int offset = (b * channels + c) * plane;
                        T scale = (gamma is null ? T.One : gamma[c]) * invStd[c];
                        if (training)
                        {
                            // NOTE: in training μ and σ² depend on x, which adds the two mean terms.
                            T meanGrad = sumGrad[c] / m, meanGradNormalized = sumGradNormalized[c] / m;
                            for (int k = offset; k < offset + plane; k++)
                                gi[k] = scale * (g[k] - meanGrad - normalized[k] * meanGradNormalized);
                        }
                        else
                        {
                            for (int k = offset; k < offset + plane; k++) gi[k] = scale * g[k];
                        }
                    }
                gradInput = Tensor<T>.Wrap(gi, shape);
            }
            return [
                gradInput,
                needs[1] ? Tensor<T>.Wrap(sumGradNormalized, channels) : null,
                needs[2] ? Tensor<T>.Wrap(sumGrad, channels) : null];
        }, input, weight, bias);
    }

    /// <summary>Per-channel mean and biased variance of [N, C, plane], the variance by a second
    /// pass over (x − μ) to avoid the cancellation of E[x²] − μ².</summary>
    private static void BatchStatistics<T>(T[] src, int n, int channels, int plane, T[] mean, T[] variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T count = T.CreateChecked(n * plane);
        for (int b = 0; b < n; b++)
            for (int c = 0; c < channels; c++)
            {
                int offset = (b * channels + c) * plane;
                for (int k = offset; k < offset + plane; k++) mean[c] += src[k];
            }
        for (int c = 0; c < channels; c++) mean[c] /= count;
        for (int b = 0; b < n; b++)
            for (int c = 0; c < channels; c++)
            {
                int offset = (b * channels + c) * plane;
                for (int k = offset; k < offset + plane; k++)
                {
                    T centered = src[k] - mean[c];
                    variance[c] += centered * centered;
                }
            }
        for (int c = 0; c < channels; c++) variance[c] /= count;
    }

    private static void UpdateRunningStatistics<T>(Tensor<T> runningMean, Tensor<T> runningVar, T[] mean, T[] variance,
        T momentum, int count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rm = runningMean.AsSpan();
        var rv = runningVar.AsSpan();
        T keep = T.One - momentum;
        T unbias = T.CreateChecked(count) / T.CreateChecked(count - 1);
        for (int c = 0; c < mean.Length; c++)
        {
            rm[c] = keep * rm[c] + momentum * mean[c];
            rv[c] = keep * rv[c] + momentum * variance[c] * unbias;
        }
    }
}

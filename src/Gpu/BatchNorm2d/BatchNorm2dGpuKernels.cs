using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>Sizes and flags of the batch-norm kernels over [batch, Channels, Plane] (Count elements).</summary>
internal readonly record struct BatchNormArgs(int Channels, long Plane, long Count, int HasWeight, int HasBias, int Training);

/// <summary>
/// Element-wise kernels of <c>Ops/BatchNorm2d/</c>: the normalisation, the running-statistics update and the input
/// gradient. The per-channel statistics and gradient sums are the fixed-order channel sums of
/// <see cref="ReductionGpuKernels"/> (the variance by a second pass over (x − μ), as on the CPU).
/// </summary>
internal static class BatchNorm2dGpuKernels
{
    /// <summary>normalized = (x − μ)/√(σ² + ε), y = γ·normalized + β (γ = 1, β = 0 when absent).</summary>
    public static void Forward<T, R>(ArrayView<T> x, ArrayView<T> mean, ArrayView<T> variance, ArrayView<T> weight, ArrayView<T> bias,
        T eps, ArrayView<T> normalized, ArrayView<T> y, BatchNormArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long i = GridLoop.First; i < g.Count; i += GridLoop.Stride)
        {
            long c = i / g.Plane % g.Channels;
            T invStd = T.One / R.Sqrt(variance[c] + eps);
            T value = (x[i] - mean[c]) * invStd;
            normalized[i] = value;
            y[i] = (g.HasWeight != 0 ? weight[c] : T.One) * value + (g.HasBias != 0 ? bias[c] : T.Zero);
        }
    }

    /// <summary>running = (1 − m)·running + m·batch, the variance entering unbiased.</summary>
    public static void UpdateRunning<T, R>(ArrayView<T> runningMean, ArrayView<T> runningVar, ArrayView<T> mean, ArrayView<T> variance,
        T momentum, T unbias, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        T keep = T.One - momentum;
        for (long c = GridLoop.First; c < channels; c += GridLoop.Stride)
        {
            runningMean[c] = keep * runningMean[c] + momentum * mean[c];
            runningVar[c] = keep * runningVar[c] + momentum * variance[c] * unbias;
        }
    }

    /// <summary>training: γ/√(σ²+ε)·(g − Σg/M − normalized·Σ(g·normalized)/M); evaluation: γ/√(σ²+ε)·g.</summary>
    public static void Backward<T, R>(ArrayView<T> grad, ArrayView<T> normalized, ArrayView<T> variance, ArrayView<T> weight, T eps,
        ArrayView<T> sumGrad, ArrayView<T> sumWeighted, T count, ArrayView<T> gradInput, BatchNormArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long i = GridLoop.First; i < g.Count; i += GridLoop.Stride)
        {
            long c = i / g.Plane % g.Channels;
            T scale = (g.HasWeight != 0 ? weight[c] : T.One) * (T.One / R.Sqrt(variance[c] + eps));
            if (g.Training != 0)
            {
                T meanGrad = sumGrad[c] / count, meanGradNormalized = sumWeighted[c] / count;
                gradInput[i] = scale * (grad[i] - meanGrad - normalized[i] * meanGradNormalized);
            }
            else
            {
                gradInput[i] = scale * grad[i];
            }
        }
    }
}

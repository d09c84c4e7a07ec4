namespace DeformEngine;

/// <summary>The reference <see cref="IBatchNorm2dBackend"/>: per-channel loops; the normalised input and
/// 1/√(σ² + ε) are saved for the backward.</summary>
public partial class CpuReferenceBackend : IBatchNorm2dBackend
{
    /// <inheritdoc />
    public virtual OperatorOutput<T> BatchNorm2d<T>(BatchNorm2dParams parameters, Tensor<T> input, Tensor<T>? runningMean,
        Tensor<T>? runningVar, Tensor<T>? weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = input.ShapeArray;
        int n = parameters.Batch, channels = parameters.Channels, plane = parameters.Plane, count = parameters.Count;
        bool training = parameters.Training;
        double eps = parameters.Eps;
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
            UpdateRunningStatistics(runningMean, runningVar!, mean, variance, T.CreateChecked(parameters.Momentum), count);

        return new(Tensor<T>.Wrap(result, shape), new BatchNormSaved<T>(normalized, invStd));
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] BatchNorm2dBackward<T>(BatchNorm2dParams parameters, Tensor<T> gradOutput, Tensor<T>? weight,
        object? saved, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (normalized, invStd) = (BatchNormSaved<T>)saved!;
        var shape = gradOutput.ShapeArray;
        int n = parameters.Batch, channels = parameters.Channels, plane = parameters.Plane, count = parameters.Count;
        bool training = parameters.Training;
        var gamma = weight?.CpuData;
        var g = gradOutput.CpuData;
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
            var gi = new T[normalized.Length];
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
    }

    private sealed record BatchNormSaved<T>(T[] Normalized, T[] InvStd);

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

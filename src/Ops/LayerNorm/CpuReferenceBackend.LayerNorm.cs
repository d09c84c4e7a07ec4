namespace DeformEngine;

/// <summary>The reference <see cref="ILayerNormBackend"/>: row by row, two passes for the mean and the variance
/// (no cancellation when the mean is large against the spread); the mean and 1/√(σ² + ε) of each row are saved.</summary>
public partial class CpuReferenceBackend : ILayerNormBackend
{
    private sealed record LayerNormSaved<T>(T[] Mean, T[] InvStd);

    /// <inheritdoc />
    public virtual OperatorOutput<T> LayerNorm<T>(LayerNormParams parameters, Tensor<T> input, Tensor<T>? weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = parameters.Rows, features = parameters.Features;
        var x = input.CpuData;
        var gamma = weight?.CpuData;
        var beta = bias?.CpuData;
        var result = new T[x.Length];
        var mean = new T[rows];
        var invStd = new T[rows];
        T count = T.CreateChecked(features), epsilon = T.CreateChecked(parameters.Eps);
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * features, features);
            T sum = T.Zero;
            foreach (var value in row) sum += value;
            T mu = sum / count, squares = T.Zero;
            foreach (var value in row) squares += (value - mu) * (value - mu);
            T inv = T.One / T.Sqrt(squares / count + epsilon);
            mean[r] = mu;
            invStd[r] = inv;
            for (int c = 0; c < features; c++)
            {
                T normalized = (row[c] - mu) * inv;
                result[r * features + c] = (gamma is null ? normalized : gamma[c] * normalized) + (beta is null ? T.Zero : beta[c]);
            }
        }
        return new OperatorOutput<T>(Tensor<T>.Wrap(result, input.ShapeArray), new LayerNormSaved<T>(mean, invStd));
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] LayerNormBackward<T>(LayerNormParams parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T>? weight,
        object? saved, bool[] needs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mean, invStd) = (LayerNormSaved<T>)saved!;
        int rows = parameters.Rows, features = parameters.Features;
        var x = input.CpuData;
        var g = gradOutput.CpuData;
        var gamma = weight?.CpuData;
        var gradInput = needs[0] ? new T[x.Length] : null;
        var gradWeight = weight is not null && needs[1] ? new T[features] : null;
        var gradBias = needs[2] ? new T[features] : null;
        T count = T.CreateChecked(features);
        for (int r = 0; r < rows; r++)
        {
            int offset = r * features;
            T sumH = T.Zero, sumHx = T.Zero;
            for (int c = 0; c < features; c++)
            {
                T normalized = (x[offset + c] - mean[r]) * invStd[r];
                T h = gamma is null ? g[offset + c] : gamma[c] * g[offset + c];
                sumH += h;
                sumHx += h * normalized;
                if (gradWeight is not null) gradWeight[c] += g[offset + c] * normalized;
                if (gradBias is not null) gradBias[c] += g[offset + c];
            }
            if (gradInput is null) continue;
            // NOTE: μ and σ² depend on every x of the row, hence the two row means subtracted from h.
            T meanH = sumH / count, meanHx = sumHx / count;
            for (int c = 0; c < features; c++)
            {
                T normalized = (x[offset + c] - mean[r]) * invStd[r];
                T h = gamma is null ? g[offset + c] : gamma[c] * g[offset + c];
                gradInput[offset + c] = invStd[r] * (h - meanH - normalized * meanHx);
            }
        }
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradWeight is null ? null : Tensor<T>.Wrap(gradWeight, features),
            gradBias is null ? null : Tensor<T>.Wrap(gradBias, features)];
    }
}

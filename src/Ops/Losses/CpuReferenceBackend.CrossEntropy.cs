namespace DeformEngine;

/// <summary>The reference <see cref="ICrossEntropyBackend"/>: a max-subtracted log-sum-exp per row; the
/// probabilities and labels are saved for the backward.</summary>
public partial class CpuReferenceBackend : ICrossEntropyBackend
{
    /// <inheritdoc />
    public virtual OperatorOutput<T> CrossEntropy<T>(CrossEntropyParams parameters, Tensor<T> logits, int[] targets)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = parameters.Rows, classes = parameters.Classes;
        var z = logits.CpuData;
        var probabilities = new T[z.Length];
        var losses = new T[n];
        for (int row = 0; row < n; row++)
        {
            var scores = z.AsSpan(row * classes, classes);
            T max = T.NegativeInfinity;
            foreach (T s in scores) max = T.Max(max, s);
            T sum = T.Zero;
            for (int k = 0; k < classes; k++) sum += T.Exp(scores[k] - max);
            T logSum = max + T.Log(sum);
            for (int k = 0; k < classes; k++) probabilities[row * classes + k] = T.Exp(scores[k] - logSum);
            losses[row] = logSum - scores[targets[row]];
        }
        return new(LossRows.Reduce(losses, parameters.Reduction), (probabilities, targets));
    }

    /// <inheritdoc />
    public virtual Tensor<T> CrossEntropyBackward<T>(CrossEntropyParams parameters, Tensor<T> gradOutput, object? saved)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = parameters.Rows, classes = parameters.Classes;
        var (probabilities, labels) = ((T[], int[]))saved!;
        var gradLogits = (T[])probabilities.Clone();
        for (int row = 0; row < n; row++) gradLogits[row * classes + labels[row]] -= T.One;
        LossRows.ScaleByUpstream(gradLogits, classes, gradOutput.CpuData, parameters.Reduction, n);
        return Tensor<T>.Wrap(gradLogits, n, classes);
    }
}

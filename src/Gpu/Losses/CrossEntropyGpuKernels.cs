using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/Losses/Functional.CrossEntropy.cs</c>: one thread per row for the log-sum-exp (the CPU's steps in
/// its order), one per logit for the gradient softmax − onehot scaled by the upstream gradient.
/// </summary>
internal static class CrossEntropyGpuKernels
{
    public static void Rows<T, R>(ArrayView<T> logits, ArrayView<int> targets, ArrayView<T> probabilities, ArrayView<T> losses,
        int rows, int classes)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long row = GridLoop.First; row < rows; row += GridLoop.Stride)
        {
            long start = row * classes;
            // NaN wins, as in the CPU's T.Max.
            T max = logits[start];
            for (int k = 1; k < classes; k++)
            {
                T v = logits[start + k];
                if (v > max || R.IsNaN(v)) max = R.IsNaN(max) ? max : v;
            }
            T sum = T.Zero;
            for (int k = 0; k < classes; k++) sum += R.Exp(logits[start + k] - max);
            T logSum = max + R.Log(sum);
            for (int k = 0; k < classes; k++) probabilities[start + k] = R.Exp(logits[start + k] - logSum);
            losses[row] = logSum - logits[start + targets[row]];
        }
    }

    /// <summary>reduction: <c>Reduction</c> (0 none: upstream per row, 1 mean: upstream[0]/rows, 2 sum: upstream[0]).</summary>
    public static void Backward<T, R>(ArrayView<T> probabilities, ArrayView<int> targets, ArrayView<T> upstream, int reduction,
        ArrayView<T> gradLogits, int rows, int classes)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long i = GridLoop.First; i < (long)rows * classes; i += GridLoop.Stride)
        {
            long row = i / classes;
            T value = probabilities[i] - (i % classes == targets[row] ? T.One : T.Zero);
            T factor = reduction == 0 ? upstream[row] : reduction == 2 ? upstream[0] : upstream[0] / R.FromInt(rows);
            gradLogits[i] = value * factor;
        }
    }
}

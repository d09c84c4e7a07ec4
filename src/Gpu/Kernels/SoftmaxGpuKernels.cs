using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernel of Core's <c>Ops/Tensor.Softmax.cs</c>: one thread per row (o, i) of x viewed as [outer, size, inner],
/// the CPU's steps in the CPU's order: the maximum, Σ exp(x − max), its log, then x − max − log Σ (exponentiated
/// for softmax).
/// </summary>
internal static class SoftmaxGpuKernels
{
    public static void Rows<T, R>(ArrayView<T> x, ArrayView<T> y, long outer, int size, long inner, int logOutput)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        if (size == 0) return;
        for (long row = GridLoop.First; row < outer * inner; row += GridLoop.Stride)
        {
            long start = (row / inner) * size * inner + row % inner;
            // NaN wins, as in the CPU's T.Max.
            T max = x[start];
            for (int s = 1; s < size; s++)
            {
                T v = x[start + s * inner];
                if (v > max || R.IsNaN(v)) max = R.IsNaN(max) ? max : v;
            }
            T sum = T.Zero;
            for (int s = 0; s < size; s++) sum += R.Exp(x[start + s * inner] - max);
            T logSum = R.Log(sum);
            for (int s = 0; s < size; s++)
            {
                T shifted = x[start + s * inner] - max - logSum;
                y[start + s * inner] = logOutput != 0 ? shifted : R.Exp(shifted);
            }
        }
    }
}

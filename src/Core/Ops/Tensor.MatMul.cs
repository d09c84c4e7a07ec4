using DeformEngine.Cpu;

namespace DeformEngine;

/// <summary>Matrix products: [M,K]·[K,N], and batched [..., M, K]·[..., K, N] where the right
/// operand may also be a single [K, N] matrix shared by every batch.</summary>
public sealed partial class Tensor<T>
{
    public Tensor<T> MatMul(Tensor<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var a = _shape;
        var b = other._shape;
        if (a.Length < 2 || b.Length < 2)
            throw new ArgumentException(
                $"other: MatMul needs tensors of rank ≥ 2, got {ShapeMath.Format(a)} and {ShapeMath.Format(b)}.", nameof(other));
        int m = a[^2], k = a[^1], n = b[^1];
        bool sharedRight = b.Length == 2;
        if (b[^2] != k || (!sharedRight && !a.AsSpan(0, a.Length - 2).SequenceEqual(b.AsSpan(0, b.Length - 2))))
            throw new ArgumentException(
                $"other: cannot multiply {ShapeMath.Format(a)} by {ShapeMath.Format(b)}; expected [..., {k}, N]" +
                (sharedRight ? "." : $" with batch dimensions {ShapeMath.Format(a.AsSpan(0, a.Length - 2))}."), nameof(other));
        int batch = Numel == 0 ? ShapeMath.Numel(a.AsSpan(0, a.Length - 2)) : Numel / Math.Max(m * k, 1);
        var outShape = (int[])a.Clone();
        outShape[^1] = n;
        if (IsOnDevice || other.IsOnDevice) return DeviceMatMul(other, batch, m, n, k, sharedRight, outShape);
        var result = new T[ShapeMath.Numel(outShape)];
        BatchedProduct(false, false, batch, m, n, k, CpuData, sharedRight ? 0 : k * n, other.CpuData, result, accumulate: false);
        var left = this;
        return Autograd.Record(Wrap(result, outShape), "MatMul", (g, needs) =>
        {
            Tensor<T>? ga = null, gb = null;
            if (needs[0])
            {
                // dA = dC · Bᵀ
                var gradA = new T[left.Numel];
                BatchedProduct(false, true, batch, m, k, n, g.CpuData, sharedRight ? 0 : k * n, other.CpuData, gradA, accumulate: false);
                ga = Wrap(gradA, a);
            }
            if (needs[1])
            {
                // dB = Aᵀ · dC, summed over the batch when B is shared.
                var gradB = new T[other.Numel];
                for (int i = 0; i < batch; i++)
                    Gemm.Multiply(true, false, k, n, m, T.One,
                        left.CpuData.AsSpan(i * m * k, m * k), k, g.CpuData.AsSpan(i * m * n, m * n), n,
                        sharedRight && i > 0 ? T.One : T.Zero, gradB.AsSpan(sharedRight ? 0 : i * k * n, k * n), n);
                gb = Wrap(gradB, b);
            }
            return [ga, gb];
        }, this, other);
    }

    /// <summary>C_i = op(A_i)·op(B_i) for each batch i, A_i of size m×k before op.</summary>
    private static void BatchedProduct(bool transA, bool transB, int batch, int m, int n, int k,
        T[] a, int strideB, T[] b, T[] c, bool accumulate)
    {
        int sizeA = m * k, sizeB = k * n, sizeC = m * n;
        for (int i = 0; i < batch; i++)
            Gemm.Multiply(transA, transB, m, n, k, T.One,
                a.AsSpan(i * sizeA, sizeA), transA ? m : k,
                b.AsSpan(i * strideB, sizeB), transB ? k : n,
                accumulate ? T.One : T.Zero, c.AsSpan(i * sizeC, sizeC), n);
    }
}

namespace DeformEngine;

/// <summary>Matrix products: [M,K]·[K,N], and batched [..., M, K]·[..., K, N] where the right
/// operand may also be a single [K, N] matrix shared by every batch.</summary>
public sealed partial class Tensor<T>
{
    /// <summary>this·other: [M, K]·[K, N] → [M, N], or batched [..., M, K]·[..., K, N] → [..., M, N] (or ·[K, N] shared
    /// by every batch); dA = dC·Bᵀ, dB = Aᵀ·dC.</summary>
    /// <exception cref="ArgumentException">A rank below 2, inner sizes or batch dimensions that differ, or tensors on
    /// different devices.</exception>
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
        RequireSameDevice(this, other, nameof(other));
        int batch = ShapeMath.Numel(a.AsSpan(0, a.Length - 2));
        var outShape = (int[])a.Clone();
        outShape[^1] = n;
        long strideB = sharedRight ? 0 : (long)k * n;
        var output = Backend.Gemm(new GemmShape(batch, m, n, k, (long)m * k, false, strideB, false), this, other, outShape);
        var left = this;
        return Autograd.Record(output, "MatMul", (g, needs) =>
        {
            Tensor<T>? ga = null, gb = null;
            // dA = dC · Bᵀ
            if (needs[0])
                ga = g.Backend.Gemm(new GemmShape(batch, m, k, n, (long)m * n, false, strideB, true), g, other, a);
            // dB = Aᵀ · dC; a shared B sums over the batch: one product [batch·m, k]ᵀ · [batch·m, n].
            if (needs[1])
                gb = sharedRight
                    ? g.Backend.Gemm(new GemmShape(1, k, n, batch * m, 0, true, 0, false), left, g, b)
                    : g.Backend.Gemm(new GemmShape(batch, k, n, m, (long)m * k, true, (long)m * n, false), left, g, b);
            return [ga, gb];
        }, this, other);
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeformEngine.Kernels;

/// <summary>The channel loops of the fast multi-scale deformable attention kernels over one head's D
/// contiguous channels: Vector512 where the hardware runs it natively, else Vector256, then a scalar
/// tail. Every lane computes with fused multiply-adds in the same order as the scalar tail, so an
/// element's result does not depend on which of the three computed it; which one runs depends only
/// on D and the machine, never on threads.</summary>
internal static unsafe class AttentionVectors
{
    private static bool Use512<T>(int count) where T : unmanaged =>
        Vector512.IsHardwareAccelerated && count >= Vector512<T>.Count;

    private static bool Use256<T>(int count) where T : unmanaged =>
        Vector256.IsHardwareAccelerated && count >= Vector256<T>.Count;

    /// <summary>dest[i] = Σ_k weights[k] · rows[k][i] over k &lt; <paramref name="terms"/>, k in order,
    /// accumulated in a register per vector of channels.</summary>
    public static void WeightedSum<T>(T* dest, nint* rows, T* weights, int terms, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Use512<T>(count))
            for (; i <= count - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var sum = Vector512<T>.Zero;
                for (int k = 0; k < terms; k++)
                    sum = FusedVectors.MultiplyAdd(Vector512.Create(weights[k]), Vector512.Load((T*)rows[k] + i), sum);
                sum.Store(dest + i);
            }
        if (Use256<T>(count - i))
            for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var sum = Vector256<T>.Zero;
                for (int k = 0; k < terms; k++)
                    sum = FusedVectors.MultiplyAdd(Vector256.Create(weights[k]), Vector256.Load((T*)rows[k] + i), sum);
                sum.Store(dest + i);
            }
        for (; i < count; i++)
        {
            T sum = T.Zero;
            for (int k = 0; k < terms; k++)
                sum = T.FusedMultiplyAdd(weights[k], ((T*)rows[k])[i], sum);
            dest[i] = sum;
        }
    }

    /// <summary>Σ_i upstream[i] · corner[i] for the four corners: Vector512 accumulators folded into
    /// Vector256 ones, which go on over the rest, then all four reduced together (a transposing
    /// horizontal add rather than four separate lane sums: this runs once per sampling point), then the
    /// scalar tail added in order.</summary>
    public static void CornerSums<T>(T* upstream, T* lt, T* rt, T* lb, T* rb, int count,
        out T sumLt, out T sumRt, out T sumLb, out T sumRb) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        sumLt = sumRt = sumLb = sumRb = T.Zero;
        if (Use256<T>(count))
        {
            Vector256<T> s0 = default, s1 = default, s2 = default, s3 = default;
            if (Use512<T>(count))
            {
                Vector512<T> w0 = default, w1 = default, w2 = default, w3 = default;
                for (; i <= count - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    var u = Vector512.Load(upstream + i);
                    w0 = FusedVectors.MultiplyAdd(u, Vector512.Load(lt + i), w0);
                    w1 = FusedVectors.MultiplyAdd(u, Vector512.Load(rt + i), w1);
                    w2 = FusedVectors.MultiplyAdd(u, Vector512.Load(lb + i), w2);
                    w3 = FusedVectors.MultiplyAdd(u, Vector512.Load(rb + i), w3);
                }
                s0 = w0.GetLower() + w0.GetUpper();
                s1 = w1.GetLower() + w1.GetUpper();
                s2 = w2.GetLower() + w2.GetUpper();
                s3 = w3.GetLower() + w3.GetUpper();
            }
            for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var u = Vector256.Load(upstream + i);
                s0 = FusedVectors.MultiplyAdd(u, Vector256.Load(lt + i), s0);
                s1 = FusedVectors.MultiplyAdd(u, Vector256.Load(rt + i), s1);
                s2 = FusedVectors.MultiplyAdd(u, Vector256.Load(lb + i), s2);
                s3 = FusedVectors.MultiplyAdd(u, Vector256.Load(rb + i), s3);
            }
            (sumLt, sumRt, sumLb, sumRb) = SumEach(s0, s1, s2, s3);
        }
        for (; i < count; i++)
        {
            T u = upstream[i];
            sumLt = T.FusedMultiplyAdd(u, lt[i], sumLt);
            sumRt = T.FusedMultiplyAdd(u, rt[i], sumRt);
            sumLb = T.FusedMultiplyAdd(u, lb[i], sumLb);
            sumRb = T.FusedMultiplyAdd(u, rb[i], sumRb);
        }
    }

    /// <summary>The lane sums of four vectors: halves added, then horizontal adds that leave one sum per
    /// vector side by side (SSE3), or one lane sum per vector where SSE3 is missing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (T, T, T, T) SumEach<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c, Vector256<T> d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && Sse3.IsSupported)
        {
            var ab = Sse3.HorizontalAdd(Half(a).As<T, float>(), Half(b).As<T, float>());
            var cd = Sse3.HorizontalAdd(Half(c).As<T, float>(), Half(d).As<T, float>());
            var all = Sse3.HorizontalAdd(ab, cd).As<float, T>();
            return (all.GetElement(0), all.GetElement(1), all.GetElement(2), all.GetElement(3));
        }
        if (typeof(T) == typeof(double) && Sse3.IsSupported)
        {
            var ab = Sse3.HorizontalAdd(Half(a).As<T, double>(), Half(b).As<T, double>()).As<double, T>();
            var cd = Sse3.HorizontalAdd(Half(c).As<T, double>(), Half(d).As<T, double>()).As<double, T>();
            return (ab.GetElement(0), ab.GetElement(1), cd.GetElement(0), cd.GetElement(1));
        }
        return (Vector256.Sum(a), Vector256.Sum(b), Vector256.Sum(c), Vector256.Sum(d));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> Half<T>(Vector256<T> v) where T : unmanaged => v.GetLower() + v.GetUpper();
}
